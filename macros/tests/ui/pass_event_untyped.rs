// No filter, untyped data (`CloudEvent` defaults to JSON values), any error type.
#[fnsdk::function()]
fn audit(_event: fnsdk::CloudEvent) -> Result<(), std::io::Error> {
    Ok(())
}

fn main() {}
