use fnsdk::{CloudEvent, function};

#[function(event = "")]
fn on_event(_event: CloudEvent) -> fnsdk::Result<()> {
    Ok(())
}

fn main() {}
