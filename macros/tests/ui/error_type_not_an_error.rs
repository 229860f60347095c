use fnsdk::function;

struct NotAnError;

#[function]
fn hello() -> Result<&'static str, NotAnError> {
    Err(NotAnError)
}

fn main() {}
