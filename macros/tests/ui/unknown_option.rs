use fnsdk::{Request, function};

#[function(route = "/hello")]
fn hello(_req: Request) -> &'static str {
    "hello"
}

fn main() {}
