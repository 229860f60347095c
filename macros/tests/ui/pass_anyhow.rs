// Handlers may return `anyhow::Result` and `Box<dyn Error>`, and `?` works
// on any error inside them.
use anyhow::Context;
use fnsdk::extract::Query;
use fnsdk::{CloudEvent, function, testing};

#[derive(serde::Deserialize)]
struct Q {
    n: String,
}

#[function]
fn parse(Query(q): Query<Q>) -> anyhow::Result<String> {
    let n: u32 = q.n.parse().context("reading n")?;
    Ok(n.to_string())
}

#[function]
fn boxed(Query(q): Query<Q>) -> Result<String, Box<dyn std::error::Error>> {
    let n: u32 = q.n.parse()?;
    Ok(n.to_string())
}

#[function(event = "com.example.ping")]
fn on_ping(event: CloudEvent<serde_json::Value>) -> anyhow::Result<()> {
    anyhow::ensure!(event.data.is_object(), "not an object");
    Ok(())
}

fn main() {
    assert_eq!(testing::call(parse, testing::get("/?n=7")).body(), "7");
    assert_eq!(testing::call(parse, testing::get("/?n=x")).status(), 500);
    assert_eq!(testing::call(boxed, testing::get("/?n=x")).status(), 500);
}
