use fnsdk::{CloudEvent, function};

#[derive(serde::Deserialize, serde::Serialize)]
struct Registered {
    email: String,
}

#[function(event = "com.example.user.registered")]
fn welcome(event: CloudEvent<Registered>) -> Result<(), fnsdk::Error> {
    if event.data.email.is_empty() {
        return Err(fnsdk::Error::bad_request("no e-mail"));
    }
    Ok(())
}

fn main() {
    let data = Registered {
        email: "a@example.com".into(),
    };
    let event = CloudEvent::new("com.example.user.registered", "/users", data);
    welcome(event).unwrap();
}
