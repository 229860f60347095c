use crate::common::load;

#[test]
fn counter_persists_across_calls_and_is_readable() {
    let f = load("kv-counter");
    for expected in ["1", "2", "3"] {
        let res = f.get("/");
        assert_eq!(res.status(), 200, "{}", res.describe());
        assert_eq!(res.text(), expected);
    }
    assert_eq!(f.kv().get_str("visits").as_deref(), Some("3"));
}

#[test]
fn seeded_values_are_seen_by_the_guest() {
    let f = load("kv-counter");
    f.kv().set("visits", "41");
    f.kv().set("greeting", "hi there");
    assert_eq!(f.get("/").text(), "42");
    assert_eq!(f.get("/get?key=greeting").text(), "hi there");
    assert_eq!(f.get("/get?key=missing").status(), 404);
    assert_eq!(f.get("/keys").text(), "greeting,visits");
}

#[test]
fn functions_have_separate_stores() {
    let a = load("kv-counter");
    let b = load("kv-counter");
    a.get("/");
    a.get("/");
    assert_eq!(b.get("/").text(), "1");
    assert_eq!(a.kv().get_str("visits").as_deref(), Some("2"));
}

#[test]
fn unknown_stores_are_refused_until_created() {
    let f = load("kv-counter");
    let res = f.get("/open?store=orders");
    assert_eq!(res.status(), 500, "{}", res.describe());
    f.kv().store("orders").set("o-1", "paid");
    let res = f.get("/open?store=orders");
    assert_eq!(res.status(), 200, "{}", res.describe());
    assert_eq!(res.text(), "opened orders");
}

/// The SDK's native backend (plain `cargo test` of a handler) and the
/// component on the runtime read a stored counter the same way: both use
/// `fn_wit::keyvalue::counter`, so `" 5"` is refused by both.
#[test]
fn native_tests_and_the_component_agree_on_what_a_counter_is() {
    let f = load("kv-counter");
    for stored in [
        "41",
        "0",
        " 5",
        "5 ",
        "5\n",
        "+5",
        "-5",
        "",
        "x",
        "18446744073709551615",
    ] {
        fnsdk::testing::reset();
        let native = fnsdk::kv::Store::open_default().unwrap();
        native.set("visits", stored.as_bytes()).unwrap();
        let native = native.increment("visits", 1).ok();

        f.kv().set("visits", stored);
        let res = f.get("/");
        let component = (res.status() == 200).then(|| res.text().parse::<u64>().unwrap());

        assert_eq!(native, component, "stored {stored:?}: {}", res.describe());
        let expected = stored
            .parse::<u64>()
            .ok()
            .filter(|_| !stored.starts_with('+'));
        assert_eq!(
            component,
            expected.and_then(|n| n.checked_add(1)),
            "{stored:?}"
        );
    }
}
