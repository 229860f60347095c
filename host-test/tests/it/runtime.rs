//! The async core: loading errors, concurrency, the precompiled cache.

use crate::common::artifact;
use fn_host_test::{Error, Runtime, RuntimeConfig};

fn small_runtime(cache_dir: Option<std::path::PathBuf>) -> Runtime {
    Runtime::new(RuntimeConfig {
        max_instances: 20,
        cache_dir,
        ..RuntimeConfig::default()
    })
    .unwrap()
}

#[test]
fn loading_errors_say_what_to_do() {
    let runtime = Runtime::shared().unwrap();
    let err = runtime.load("/nonexistent/app.wasm").unwrap_err();
    assert!(matches!(err, Error::Read { .. }));
    assert!(err.to_string().contains("cargo fn build"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let core = dir.path().join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    let err = runtime.load(&core).unwrap_err();
    assert!(matches!(err, Error::Compile { .. }), "{err}");
    assert!(err.to_string().contains("core.wasm"), "{err}");

    // A component that does not export the HTTP handler.
    let err = runtime.load_bytes("empty", b"(component)").unwrap_err();
    assert!(matches!(err, Error::Link { .. }), "{err}");
    assert!(err.to_string().contains("incoming-handler"), "{err}");
}

#[test]
fn concurrent_calls_share_state_safely() {
    let function = Runtime::shared()
        .unwrap()
        .load(artifact("kv-counter"))
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let statuses = rt.block_on(async {
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let function = function.clone();
                tokio::spawn(async move {
                    let req = http::Request::get("/").body(bytes::Bytes::new()).unwrap();
                    function.handle(req).await.status()
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        statuses
    });
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(function.kv().get_str("visits").as_deref(), Some("32"));
}

#[test]
fn precompiled_components_are_cached_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let first = small_runtime(Some(dir.path().to_owned()));
    first.load(artifact("hello")).unwrap();
    let cached: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(cached.len(), 1, "{cached:?}");
    assert_eq!(cached[0].extension().unwrap(), "cwasm");

    // A fresh runtime (a new `cargo fn serve`) loads the cached code.
    let second = small_runtime(Some(dir.path().to_owned()));
    let function = second.load(artifact("hello")).unwrap();
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let req = http::Request::get("/?name=cache")
        .body(bytes::Bytes::new())
        .unwrap();
    let res = tokio.block_on(function.handle(req));
    assert_eq!(res.text(), "Hello, cache!");
}

#[test]
fn a_full_pool_answers_503_and_recovers() {
    let runtime = Runtime::new(RuntimeConfig {
        max_instances: 1,
        ..RuntimeConfig::default()
    })
    .unwrap();
    let spin = runtime.load(artifact("spin")).unwrap();
    spin.set_limits(
        fn_host_test::Limits::default().with_timeout(std::time::Duration::from_millis(300)),
    )
    .unwrap();
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let get = |path: &str| http::Request::get(path).body(bytes::Bytes::new()).unwrap();
    let (busy, refused) = tokio.block_on(async {
        // The spinning call holds the only slot on the worker thread; the
        // second call runs meanwhile on this thread and finds no slot.
        let spinning = spin.clone();
        let busy = tokio::spawn(async move { spinning.handle(get("/spin")).await });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let refused = spin.handle(get("/")).await;
        (busy.await.unwrap(), refused)
    });
    assert_eq!(busy.status(), 504, "{}", busy.describe());
    assert_eq!(refused.status(), 503, "{}", refused.describe());
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert!(matches!(
        refused.error,
        Some(fn_host_test::CallError::Overloaded(_))
    ));
    let res = tokio.block_on(spin.handle(get("/")));
    assert_eq!(res.status(), 200, "{}", res.describe());
}
