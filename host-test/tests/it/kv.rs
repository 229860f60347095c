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
fn unknown_buckets_are_refused_until_created() {
    let f = load("kv-counter");
    let res = f.get("/open?store=orders");
    assert_eq!(res.status(), 500, "{}", res.describe());
    f.kv().bucket("orders").set("o-1", "paid");
    let res = f.get("/open?store=orders");
    assert_eq!(res.status(), 200, "{}", res.describe());
    assert_eq!(res.text(), "opened orders");
}
