// The `http` crate's own request type (converted from the SDK's), a `_`
// pattern and a unit return.
#[fnsdk::function]
fn ping(_: fnsdk::http::Request<fnsdk::Bytes>) {}

fn main() {
    ping(Default::default());
}
