use fnsdk::{Request, function};

#[function]
async fn hello(_req: Request) -> &'static str {
    "hello"
}

fn main() {}
