// Independent mistakes are all reported at once.
use fnsdk::{Request, function};

#[function]
async fn hello<T>(_req: Request) -> &'static str {
    "hello"
}

fn main() {}
