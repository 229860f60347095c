use fn_host_test::{Limits, Runtime, RuntimeConfig};
use std::time::{Duration, Instant};
fn main() {
    let dir = "/work/main/target/fixtures/wasm32-wasip2/release";
    let rt = Runtime::new(RuntimeConfig { max_instances: 1, ..Default::default() }).unwrap();
    let spin = rt.load(format!("{dir}/fixture_spin.wasm")).unwrap();
    spin.set_limits(Limits::default().with_timeout(Duration::from_millis(300))).unwrap();
    let tokio = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let get = |path: &str| http::Request::get(path).body(bytes::Bytes::new()).unwrap();
    let t0 = Instant::now();
    let (busy, refused) = tokio.block_on(async {
        let spinning = spin.clone();
        let busy = tokio::spawn(async move { println!("spawned at {:?}", t0.elapsed()); let r = spinning.handle(get("/spin")).await; println!("spin done {:?}", t0.elapsed()); r });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        println!("slept until {:?}", t0.elapsed());
        let refused = spin.handle(get("/")).await;
        println!("second done {:?}", t0.elapsed());
        (busy.await.unwrap(), refused)
    });
    println!("{}\n{}", busy.describe(), refused.describe());
}
