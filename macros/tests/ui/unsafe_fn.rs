use fnsdk::{Request, function};

#[function]
unsafe fn hello(_req: Request) -> &'static str {
    "hello"
}

fn main() {}
