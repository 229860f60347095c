use fnsdk::{Request, function};

#[function]
const fn hello(_req: Request) -> &'static str {
    "hello"
}

fn main() {}
