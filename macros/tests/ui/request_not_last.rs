use fnsdk::{Request, function};

#[function]
fn hello(_req: Request, name: String) -> String {
    name
}

fn main() {}
