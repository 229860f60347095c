use crate::common::load;

#[test]
fn config_values_are_served_and_can_change_between_calls() {
    let f = load("config-reader");
    assert_eq!(f.get("/?key=api_url").status(), 404);
    f.set_config("api_url", "https://api.example.com")
        .set_config("region", "eu");
    let res = f.get("/?key=api_url");
    assert_eq!(res.status(), 200, "{}", res.describe());
    assert_eq!(res.text(), "https://api.example.com");
    assert_eq!(
        f.get("/all").text(),
        "api_url=https://api.example.com\nregion=eu"
    );
    f.set_config("region", "us");
    assert_eq!(f.get("/?key=region").text(), "us");
    assert_eq!(
        f.config_values().get("region").map(String::as_str),
        Some("us")
    );
    f.function().remove_config("region");
    assert!(!f.config_values().contains_key("region"));
    assert_eq!(f.get("/?key=region").status(), 404);
}
