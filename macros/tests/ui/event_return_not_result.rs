use fn_sdk::{CloudEvent, function};

#[function]
fn on_event(_event: CloudEvent) -> bool {
    true
}

fn main() {}
