use fnsdk::{CloudEvent, function};

#[function]
fn on_event(event: CloudEvent) {
    println!("{}", event.id);
}

fn main() {}
