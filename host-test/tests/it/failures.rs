//! Every failure is a response, and the next call works.

use crate::common::{artifact, load};
use fn_host_test::{CallError, Limits, TestFunction};
use std::time::Duration;

#[test]
fn a_panic_is_a_500_with_the_message_in_stderr() {
    let f = load("panic");
    let res = f.get("/panic");
    assert_eq!(res.status(), 500, "{}", res.describe());
    assert!(
        matches!(res.error, Some(CallError::Trap(_))),
        "{:?}",
        res.error
    );
    assert!(
        res.logs.stderr_str().contains("fixture panic on purpose"),
        "{}",
        res.describe()
    );
    // The reason, with the wasm backtrace, is in the host log; the client
    // only gets a short body.
    assert!(
        res.host_log.iter().any(|l| l.contains("trapped")),
        "{:?}",
        res.host_log
    );
    assert!(!res.text().contains("backtrace"));

    let res = f.get("/");
    assert_eq!(res.status(), 200, "{}", res.describe());
    assert_eq!(res.text(), "ok");
}

#[test]
fn an_infinite_loop_times_out_with_504() {
    let f = load("spin");
    f.set_limits(Limits::default().with_timeout(Duration::from_millis(300)));
    let res = f.get("/spin");
    assert_eq!(res.status(), 504, "{}", res.describe());
    assert_eq!(
        res.error,
        Some(CallError::Timeout(Duration::from_millis(300)))
    );
    assert!(
        res.host_log.iter().any(|l| l.contains("timeout")),
        "{:?}",
        res.host_log
    );

    let res = f.get("/");
    assert_eq!(res.status(), 200, "{}", res.describe());
    assert_eq!(res.text(), "ok");
}

#[test]
fn a_memory_hog_hits_the_cap_with_500() {
    let f = load("memory-hog");
    f.set_limits(Limits::default().with_memory(32 << 20));
    let res = f.get("/hog");
    assert_eq!(res.status(), 500, "{}", res.describe());
    assert_eq!(res.error, Some(CallError::MemoryLimit { limit: 32 << 20 }));
    assert!(res.metrics.peak_memory <= 32 << 20, "{:?}", res.metrics);

    let res = f.get("/alloc?mib=4");
    assert_eq!(res.status(), 200, "{}", res.describe());
    assert_eq!(res.text(), "allocated 4");
    assert!(res.metrics.peak_memory >= 4 << 20, "{:?}", res.metrics);

    let res = f.get("/alloc?mib=64");
    assert_eq!(res.error, Some(CallError::MemoryLimit { limit: 32 << 20 }));
    assert_eq!(f.get("/").text(), "ok");
}

#[test]
fn fuel_exhaustion_is_a_500() {
    let f = TestFunction::load_with_fuel(artifact("spin")).unwrap();
    f.set_limits(Limits::default().with_fuel(50_000_000));
    let res = f.get("/spin");
    assert_eq!(res.status(), 500, "{}", res.describe());
    assert_eq!(res.error, Some(CallError::OutOfFuel(50_000_000)));
    let res = f.get("/");
    res.assert_ok();
    assert!(res.metrics.fuel.unwrap() < 50_000_000);
}

#[test]
fn an_oversized_body_is_refused_with_413_before_the_guest_runs() {
    let f = load("json-echo");
    f.set_limits(Limits::default().with_max_request_body(1024));
    let big = format!("[\"{}\"]", "x".repeat(2048));
    let res = f.post("/", big);
    assert_eq!(res.status(), 413, "{}", res.describe());
    assert!(matches!(
        res.error,
        Some(CallError::BodyTooLarge { limit: 1024, .. })
    ));
    assert_eq!(
        res.metrics.instantiate,
        Duration::ZERO,
        "the guest never ran"
    );

    let res = f.post("/", "[1,2]");
    assert_eq!(res.status(), 200, "{}", res.describe());
}

#[test]
fn streaming_bodies_are_capped_by_content_length_and_by_reading() {
    let f = load("json-echo");
    f.set_limits(Limits::default().with_max_request_body(16));
    let function = f.function().clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let declared = http::Request::post("/")
            .header("content-length", "1000000")
            .body(http_body_util::Full::new(bytes::Bytes::from_static(b"[1]")))
            .unwrap();
        assert_eq!(function.handle_incoming(declared).await.status(), 413);

        let undeclared = http::Request::post("/")
            .body(http_body_util::Full::new(bytes::Bytes::from(vec![
                b' ';
                64
            ])))
            .unwrap();
        assert_eq!(function.handle_incoming(undeclared).await.status(), 413);

        let fine = http::Request::post("/")
            .body(http_body_util::Full::new(bytes::Bytes::from_static(b"[1]")))
            .unwrap();
        let res = function.handle_incoming(fine).await;
        assert_eq!(res.status(), 200, "{}", res.describe());
    });
}

/// A request body that sends its first bytes and then nothing more, as a
/// stalled client's would.
struct Stalled(Option<bytes::Bytes>);

impl http_body::Body for Stalled {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        match self.0.take() {
            Some(bytes) => std::task::Poll::Ready(Some(Ok(http_body::Frame::data(bytes)))),
            None => std::task::Poll::Pending,
        }
    }
}

#[test]
fn a_body_that_stops_arriving_is_answered_408_before_the_guest_runs() {
    let f = load("json-echo");
    f.set_limits(Limits::default().with_body_timeout(Duration::from_millis(200)));
    let function = f.function().clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let stalled = http::Request::post("/")
            .body(Stalled(Some(bytes::Bytes::from_static(b"[1,"))))
            .unwrap();
        // Bounded, so that a missing body timeout fails instead of hanging.
        let res = tokio::time::timeout(Duration::from_secs(10), function.handle_incoming(stalled))
            .await
            .expect("the stalled body was waited for without end");
        assert_eq!(res.status(), 408, "{}", res.describe());
        assert_eq!(
            res.error,
            Some(CallError::BodyTimeout(Duration::from_millis(200)))
        );
        assert_eq!(
            res.metrics.instantiate,
            Duration::ZERO,
            "the guest never ran"
        );

        let fine = http::Request::post("/")
            .body(http_body_util::Full::new(bytes::Bytes::from_static(b"[1]")))
            .unwrap();
        let res = function.handle_incoming(fine).await;
        assert_eq!(res.status(), 200, "{}", res.describe());
    });
}

#[test]
fn limits_beyond_the_runtime_are_refused() {
    let f = load("hello");
    let too_much = Limits::default().with_memory(u64::MAX);
    let err = f.function().set_limits(too_much).unwrap_err();
    assert!(err.to_string().contains("max_memory"), "{err}");
    let err = f
        .function()
        .set_limits(Limits::default().with_fuel(1))
        .unwrap_err();
    assert!(err.to_string().contains("fuel"), "{err}");
}
