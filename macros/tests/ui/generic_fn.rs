use fnsdk::{CloudEvent, function};

#[function]
fn on_event<T: serde::de::DeserializeOwned>(_event: CloudEvent<T>) -> fnsdk::Result<()> {
    Ok(())
}

fn main() {}
