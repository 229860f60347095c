use fnsdk::{CloudEvent, function};

#[function]
fn on_event(_event: CloudEvent) -> bool {
    true
}

fn main() {}
