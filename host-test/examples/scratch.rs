use fn_host_test::{Limits, TestFunction};
use std::time::Duration;
fn main() {
    let dir = "/work/main/target/fixtures/wasm32-wasip2/release";
    let f = TestFunction::load(format!("{dir}/fixture_panic.wasm")).unwrap();
    println!("{}", f.get("/panic").describe());
    let f = TestFunction::load(format!("{dir}/fixture_spin.wasm")).unwrap();
    f.limits(Limits::default().with_timeout(Duration::from_millis(200)));
    let r = f.get("/spin");
    println!("{}\n{:?}", r.describe(), r.metrics);
    let f = TestFunction::load(format!("{dir}/fixture_memory_hog.wasm")).unwrap();
    f.limits(Limits::default().with_memory(32<<20));
    let r = f.get("/hog");
    println!("{}\n{:?}", r.describe(), r.metrics);
    let f = TestFunction::load(format!("{dir}/fixture_outbound.wasm")).unwrap();
    let r = f.get("/?url=https://x.test/a");
    println!("{}\n{:?}", r.describe(), r.metrics);
}
