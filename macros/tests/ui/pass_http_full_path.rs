// A fully qualified `http::Request<Bytes>`, a `_` pattern and a unit return.
#[fn_sdk::function]
fn ping(_: fn_sdk::http::Request<fn_sdk::Bytes>) {}

fn main() {
    ping(Default::default());
}
