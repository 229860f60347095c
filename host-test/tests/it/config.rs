use crate::common::load;

#[test]
fn config_values_are_served_and_can_change_between_calls() {
    let f = load("config-reader");
    assert_eq!(f.get("/?key=api_url").status(), 404);
    f.config("api_url", "https://api.example.com")
        .config("region", "eu");
    let res = f.get("/?key=api_url");
    assert_eq!(res.status(), 200, "{}", res.describe());
    assert_eq!(res.text(), "https://api.example.com");
    assert_eq!(
        f.get("/all").text(),
        "api_url=https://api.example.com\nregion=eu"
    );
    f.config("region", "us");
    assert_eq!(f.get("/?key=region").text(), "us");
    f.function().remove_config("region");
    assert_eq!(f.get("/?key=region").status(), 404);
}
