//! The kv-counter fixture on the Redis key-value backend, against a real
//! `redis-server` per test (`fn_host_test::redis::RedisServer`).

use crate::common::load;
use fn_host_test::redis::RedisServer;
use fn_host_test::{CallResult, KeyValue, RedisConfig, TestFunction};
use std::time::{Duration, Instant};

fn server() -> RedisServer {
    RedisServer::start().unwrap_or_else(|e| panic!("{e:#}"))
}

/// The fixture with its stores in `config`'s Redis.
fn on_redis(config: RedisConfig) -> TestFunction {
    let kv = KeyValue::redis(config).unwrap();
    let function = load("kv-counter").function().clone().with_key_value(kv);
    TestFunction::new(function).unwrap()
}

/// A direct connection, to check and seed what the guest sees.
fn client(server: &RedisServer) -> ::redis::Connection {
    ::redis::Client::open(server.url())
        .unwrap()
        .get_connection()
        .unwrap()
}

fn ok(res: CallResult) -> String {
    res.assert_ok();
    res.text()
}

fn sorted(csv: &str) -> Vec<String> {
    let mut keys: Vec<String> = csv
        .split(',')
        .filter(|k| !k.is_empty())
        .map(Into::into)
        .collect();
    keys.sort();
    keys
}

#[test]
fn the_guest_reads_and_writes_redis_at_the_documented_keys() {
    let server = server();
    let config = RedisConfig::new(server.url(), "counter");
    let f = on_redis(config.clone());
    assert!(f.kv().is_redis());
    assert_eq!(ok(f.get("/")), "1");
    assert_eq!(ok(f.get("/")), "2");
    assert_eq!(ok(f.get("/set?key=greeting&value=hi")), "set");
    assert_eq!(ok(f.get("/get?key=greeting")), "hi");
    assert_eq!(f.get("/get?key=missing").status(), 404);
    assert_eq!(sorted(&ok(f.get("/keys"))), ["greeting", "visits"]);

    let mut redis = client(&server);
    let visits: String = ::redis::cmd("GET")
        .arg(config.key("default", "visits"))
        .query(&mut redis)
        .unwrap();
    assert_eq!(visits, "2");
    assert_eq!(config.key("default", "visits"), "fn:counter:default:visits");
    let _: () = ::redis::cmd("SET")
        .arg(config.key("default", "visits"))
        .arg("41")
        .query(&mut redis)
        .unwrap();
    assert_eq!(ok(f.get("/")), "42");
}

#[test]
fn namespaces_and_stores_do_not_see_each_other() {
    let server = server();
    let a = on_redis(RedisConfig::new(server.url(), "a").stores(["x", "x:y"]));
    let b = on_redis(RedisConfig::new(server.url(), "b"));
    a.get("/");
    a.get("/");
    assert_eq!(ok(b.get("/")), "1");
    assert_eq!(ok(a.get("/get?key=visits")), "2");

    // Store `x` key `y:k` and store `x:y` key `k` would both be `x:y:k`
    // without escaping.
    ok(a.get("/set?store=x&key=y:k&value=in-x"));
    ok(a.get("/set?store=x%3Ay&key=k&value=in-x:y"));
    assert_eq!(ok(a.get("/get?store=x&key=y:k")), "in-x");
    assert_eq!(ok(a.get("/get?store=x%3Ay&key=k")), "in-x:y");
    assert_eq!(ok(a.get("/keys?store=x")), "y:k");
    assert_eq!(ok(a.get("/keys?store=x%3Ay")), "k");
    assert_eq!(ok(a.get("/keys")), "visits");

    // Only declared stores open.
    let res = b.get("/open?store=x");
    assert_eq!(res.status(), 500, "{}", res.describe());
    assert_eq!(ok(a.get("/open?store=x")), "opened x");
    assert_eq!(a.kv().store_names(), ["default", "x", "x:y"]);
}

#[test]
fn list_keys_follows_scan_pages_and_matches_the_prefix_literally() {
    let server = server();
    // `?` in the namespace must not match the `x` of namespace `nx`.
    let config = RedisConfig::new(server.url(), "n?");
    let f = on_redis(config.clone());
    let mut redis = client(&server);
    let mut pipe = ::redis::pipe();
    let expected: Vec<String> = (0..2500).map(|i| format!("k{i:04}")).collect();
    for key in &expected {
        pipe.cmd("SET")
            .arg(config.key("default", key))
            .arg("v")
            .ignore();
    }
    let other = RedisConfig::new(server.url(), "nx");
    for i in 0..100 {
        pipe.cmd("SET")
            .arg(other.key("default", &format!("other{i}")))
            .arg("v")
            .ignore();
    }
    pipe.cmd("CONFIG").arg("RESETSTAT").ignore();
    let _: () = pipe.query(&mut redis).unwrap();

    let mut listed = sorted(&ok(f.get("/keys")));
    listed.dedup(); // SCAN may repeat a key; it never skips one.
    assert_eq!(listed, expected);
    let stats: String = ::redis::cmd("INFO")
        .arg("commandstats")
        .query(&mut redis)
        .unwrap();
    let scans: u64 = stats
        .lines()
        .find_map(|line| line.strip_prefix("cmdstat_scan:calls="))
        .and_then(|rest| rest.split(',').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no SCAN in {stats}"));
    assert!(scans > 1, "one SCAN page only: {stats}");
}

#[test]
fn incrementing_a_value_that_is_not_a_counter_names_the_key() {
    let server = server();
    let f = on_redis(RedisConfig::new(server.url(), "f"));
    let max = i64::MAX.to_string();
    for (stored, expected) in [
        (
            "hello",
            "incrementing `visits` by 1: the value is not a counter",
        ),
        (
            max.as_str(),
            "incrementing `visits` by 1: the counter would overflow",
        ),
    ] {
        ok(f.get(&format!("/set?key=visits&value={stored}")));
        let res = f.get("/");
        assert_eq!(res.status(), 500, "{}", res.describe());
        let stderr = res.logs.stderr_str();
        assert!(stderr.contains(expected), "{stderr}");
    }
}

/// Calls `/` and checks that it failed within `bound` with a message
/// containing `expected`.
fn fails_within(f: &TestFunction, bound: Duration, expected: &str) {
    let started = Instant::now();
    let res = f.get("/");
    let took = started.elapsed();
    assert_eq!(res.status(), 500, "{}", res.describe());
    assert!(took < bound, "took {took:?}: {}", res.describe());
    let stderr = res.logs.stderr_str();
    assert!(stderr.contains(expected), "{stderr}");
}

#[test]
fn a_redis_that_is_down_fails_calls_quickly_until_it_is_back() {
    let mut server = server();
    let f = on_redis(RedisConfig::new(server.url(), "f"));
    assert_eq!(ok(f.get("/")), "1");

    server.stop();
    let expected = format!(
        "key-value store `default`: Redis at 127.0.0.1:{} is unreachable",
        server.port()
    );
    fails_within(&f, Duration::from_secs(10), &expected);
    fails_within(&f, Duration::from_secs(10), &expected);

    server.restart().unwrap();
    // Not persisted: the counter starts over.
    assert_eq!(ok(f.get("/")), "1");
}

#[test]
fn a_stalled_redis_times_out_and_the_next_call_works() {
    let server = server();
    let timeout = Duration::from_millis(500);
    let config = RedisConfig::new(server.url(), "f")
        .connect_timeout(timeout)
        .response_timeout(timeout);
    let f = on_redis(config);
    assert_eq!(ok(f.get("/")), "1");

    server.pause().unwrap();
    let expected = format!(
        "key-value store `default`: Redis at 127.0.0.1:{} timed out: no answer to INCRBY within 500ms",
        server.port()
    );
    fails_within(&f, Duration::from_secs(5), &expected);

    server.resume().unwrap();
    // The timed-out INCRBY was sent: Redis may apply it once it runs again.
    let next = ok(f.get("/"));
    assert!(next == "2" || next == "3", "{next}");
}
