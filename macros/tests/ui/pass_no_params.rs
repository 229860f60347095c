use fnsdk::function;

#[function]
fn hello() -> &'static str {
    "hello"
}

fn main() {}
