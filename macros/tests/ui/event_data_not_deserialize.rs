use fn_sdk::{CloudEvent, function};

struct Registered {
    email: String,
}

#[function]
fn on_event(event: CloudEvent<Registered>) -> fn_sdk::Result<()> {
    let _ = event.data.email;
    Ok(())
}

fn main() {}
