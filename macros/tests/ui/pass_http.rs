use fnsdk::{Request, function};

#[function]
fn hello(req: Request) -> String {
    format!("hello {}", req.uri().path())
}

fn main() {
    assert_eq!(hello(fnsdk::testing::get("/x")), "hello /x");
    // An `http::Request` converts.
    let req = fnsdk::http::Request::get("/y")
        .body(Default::default())
        .unwrap();
    assert_eq!(hello(req.into()), "hello /y");
}
