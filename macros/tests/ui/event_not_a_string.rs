use fnsdk::{CloudEvent, function};

#[function(event = com.example.user.registered)]
fn on_event(_event: CloudEvent) -> fnsdk::Result<()> {
    Ok(())
}

fn main() {}
