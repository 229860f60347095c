use fnsdk::function;

// Without parameters a handler returns a response or a `Router`.
#[function]
fn routes() -> Vec<u8> {
    Vec::new()
}

fn main() {}
