use fnsdk::{CloudEvent, function};

struct Registered {
    email: String,
}

#[function]
fn on_event(event: CloudEvent<Registered>) -> fnsdk::Result<()> {
    let _ = event.data.email;
    Ok(())
}

fn main() {}
