// `#[function]` directly on a function that builds the router.
use fnsdk::extract::Path;
use fnsdk::router::{Router, get};
use fnsdk::{function, testing};

fn hello(Path(name): Path<String>) -> String {
    format!("Hello, {name}!")
}

#[function]
fn routes() -> Router {
    Router::new().route("/hello/{name}", get(hello))
}

fn main() {
    let resp = fnsdk::handler::Respond::respond(routes(), testing::get("/hello/Ferris"));
    assert_eq!(resp.body(), "Hello, Ferris!");
}
