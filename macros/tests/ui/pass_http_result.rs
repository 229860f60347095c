use fnsdk::{Json, Request, RequestExt, StatusCode, function};

#[derive(serde::Deserialize, serde::Serialize)]
struct Order {
    id: u32,
}

/// Doc comments and other attributes stay on the handler.
#[function]
#[allow(clippy::needless_pass_by_value)]
fn create(mut req: Request) -> Result<(StatusCode, Json<Order>), fnsdk::Error> {
    let _ = req.headers_mut();
    let order: Order = req.json()?;
    Ok((StatusCode::CREATED, Json(order)))
}

fn main() {
    let req = fnsdk::http::Request::post("/")
        .body(r#"{"id":7}"#.into())
        .unwrap()
        .into();
    let (status, Json(order)) = create(req).unwrap();
    assert_eq!((status, order.id), (StatusCode::CREATED, 7));
}
