use fnsdk::function;

// The body's bytes are `fnsdk::Bytes`, not `Vec<u8>`.
#[function]
fn hello(body: Vec<u8>) -> String {
    String::from_utf8_lossy(&body).into_owned()
}

fn main() {}
