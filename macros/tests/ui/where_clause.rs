use fnsdk::{Request, function};

#[function]
fn hello(_req: Request) -> &'static str
where
    String: Clone,
{
    "hello"
}

fn main() {}
