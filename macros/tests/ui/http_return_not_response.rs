use fnsdk::{Request, function};

struct Greeting;

#[function]
fn hello(_req: Request) -> Greeting {
    Greeting
}

fn main() {}
