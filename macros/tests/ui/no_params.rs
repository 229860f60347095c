use fn_sdk::function;

#[function]
fn hello() -> &'static str {
    "hello"
}

fn main() {}
