use fnsdk::extract::Query;
use fnsdk::{CloudEvent, Request, function, outbound, task, testing};

#[function]
async fn hello(_req: Request) -> &'static str {
    "hello"
}

#[derive(serde::Deserialize)]
struct Q {
    a: String,
    b: String,
}

// Two outbound requests in flight at once.
#[function]
async fn both(Query(q): Query<Q>) -> fnsdk::Result<String> {
    let get = |url: String| outbound::fetch(testing::get(&url));
    let (a, b) = task::join(get(q.a), get(q.b)).await;
    Ok(format!("{} {}", a?.status().as_u16(), b?.status().as_u16()))
}

#[function(event = "com.example.ping")]
async fn on_ping(_event: CloudEvent) -> fnsdk::Result<()> {
    Ok(())
}

fn main() {
    testing::mock_outbound(|_| fnsdk::Response::default());
    let resp = testing::call(both, testing::get("/?a=https://a.example/&b=https://b.example/"));
    assert_eq!(resp.body(), "200 200");
    assert_eq!(testing::block_on(hello(testing::get("/"))), "hello");
}
