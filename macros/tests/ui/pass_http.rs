use fnsdk::{Request, function};

#[function]
fn hello(req: Request) -> String {
    format!("hello {}", req.uri().path())
}

fn main() {
    let req = fnsdk::http::Request::get("/x")
        .body(Default::default())
        .unwrap();
    assert_eq!(hello(req), "hello /x");
}
