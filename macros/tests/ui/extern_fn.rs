use fnsdk::{Request, function};

#[function]
extern "C" fn hello(_req: Request) -> &'static str {
    "hello"
}

fn main() {}
