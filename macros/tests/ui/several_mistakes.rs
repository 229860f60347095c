// Independent mistakes are all reported at once.
use fnsdk::{Request, function};

#[function]
unsafe fn hello<T>(_req: Request) -> &'static str {
    "hello"
}

fn main() {}
