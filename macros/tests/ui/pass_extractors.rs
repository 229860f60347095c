use fnsdk::extract::{Json, Path, Query};
use fnsdk::http::{HeaderMap, Method};
use fnsdk::router::{Router, get, post};
use fnsdk::{Request, StatusCode, function, testing};

#[derive(serde::Deserialize, serde::Serialize)]
struct Order {
    sku: String,
    qty: u32,
}

#[derive(serde::Deserialize)]
struct Opts {
    dry_run: Option<bool>,
}

// Several extractors on a `#[function]`, `Request` last.
#[function]
fn create(
    Query(opts): Query<Opts>,
    headers: HeaderMap,
    Json(order): Json<Order>,
    req: Request,
) -> (StatusCode, String) {
    let who = headers.get("x-user").map_or("anonymous", |v| v.to_str().unwrap_or("?"));
    let dry = opts.dry_run.unwrap_or(false);
    (
        StatusCode::CREATED,
        format!("{who} {} {} x {} dry={dry}", req.method(), order.qty, order.sku),
    )
}

fn show(Path(id): Path<u64>, method: Method) -> String {
    format!("{method} order {id}")
}

fn main() {
    let mut req = testing::post_json("/?dry_run=true", &Order { sku: "A".into(), qty: 2 });
    req.headers_mut().insert("x-user", "ada".parse().unwrap());
    let resp = testing::call(create, req);
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(resp.body(), "ada POST 2 x A dry=true");

    let router = Router::new().route("/orders/{id}", get(show).post(create));
    assert_eq!(router.handle(testing::get("/orders/7")).body(), "GET order 7");
    assert_eq!(router.handle(testing::get("/orders/x")).status(), 400);
}
