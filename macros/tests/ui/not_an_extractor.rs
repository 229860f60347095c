// A parameter type that is not an extractor is refused at that parameter,
// before and at the last position alike.
use fnsdk::extract::Query;
use fnsdk::{Request, function};

#[derive(serde::Deserialize)]
struct Page {
    n: u32,
}

#[function]
fn hello(times: u32, _req: Request) -> String {
    "x".repeat(times as usize)
}

#[function]
fn page(Query(page): Query<Page>, limit: u32) -> String {
    format!("{} {limit}", page.n)
}

fn main() {}
