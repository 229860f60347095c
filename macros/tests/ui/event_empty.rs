use fn_sdk::{CloudEvent, function};

#[function(event = "")]
fn on_event(_event: CloudEvent) -> fn_sdk::Result<()> {
    Ok(())
}

fn main() {}
