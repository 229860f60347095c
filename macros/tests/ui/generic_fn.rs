use fn_sdk::{CloudEvent, function};

#[function]
fn on_event<T: serde::de::DeserializeOwned>(_event: CloudEvent<T>) -> fn_sdk::Result<()> {
    Ok(())
}

fn main() {}
