// A fully qualified `http::Request<Bytes>`, a `_` pattern and a unit return.
#[fnsdk::function]
fn ping(_: fnsdk::http::Request<fnsdk::Bytes>) {}

fn main() {
    ping(Default::default());
}
