use fnsdk::{Request, function};

#[function]
fn hello(_req: &Request) -> &'static str {
    "hello"
}

fn main() {}
