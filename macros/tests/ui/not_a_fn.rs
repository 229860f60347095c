use fnsdk::function;

#[function]
struct Handler {
    greeting: String,
}

fn main() {}
