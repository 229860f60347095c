use fn_sdk::function;

#[function]
struct Handler {
    greeting: String,
}

fn main() {}
