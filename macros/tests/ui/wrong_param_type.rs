use fn_sdk::function;

#[function]
fn hello(body: String) -> String {
    body
}

fn main() {}
