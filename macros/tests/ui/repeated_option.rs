use fnsdk::{CloudEvent, function};

#[function(event = "com.example.a", event = "com.example.b")]
fn on_event(_event: CloudEvent) -> fnsdk::Result<()> {
    Ok(())
}

fn main() {}
