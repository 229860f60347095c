use fn_sdk::{CloudEvent, function};

#[function(event = "com.example.a", event = "com.example.b")]
fn on_event(_event: CloudEvent) -> fn_sdk::Result<()> {
    Ok(())
}

fn main() {}
