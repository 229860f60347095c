// No filter, untyped data (`CloudEvent` defaults to JSON values), any error type.
#[fn_sdk::function()]
fn audit(_event: fn_sdk::CloudEvent) -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
