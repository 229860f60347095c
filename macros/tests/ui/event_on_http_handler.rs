use fnsdk::{Request, function};

#[function(event = "com.example.user.registered")]
fn hello(_req: Request) -> &'static str {
    "hello"
}

fn main() {}
