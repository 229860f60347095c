use fn_sdk::{Request, function};

#[function]
fn hello(req: Request) -> String {
    format!("hello {}", req.uri().path())
}

fn main() {
    let req = fn_sdk::http::Request::get("/x")
        .body(Default::default())
        .unwrap();
    assert_eq!(hello(req), "hello /x");
}
