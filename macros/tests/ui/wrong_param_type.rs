use fnsdk::function;

#[function]
fn hello(body: String) -> String {
    body
}

fn main() {}
