//! An HTTP function: `cargo fn build` turns it into one WebAssembly component
//! that any `wasi:http/proxy` host can run.

use fnsdk::{Request, RequestExt, function};

/// Answers every request with a greeting: `GET /?name=Ferris` → `Hello, Ferris!`.
#[function]
fn handle(req: Request) -> String {
    let name = req.query_param("name").unwrap_or_else(|| "world".into());
    format!("Hello, {name}!")
}

// The handler is a plain Rust function: test it natively with `cargo test`.
#[cfg(test)]
mod tests {
    use super::*;

    fn get(uri: &str) -> Request {
        fnsdk::http::Request::get(uri).body(Default::default()).unwrap()
    }

    #[test]
    fn greets_the_world() {
        assert_eq!(handle(get("/")), "Hello, world!");
    }

    #[test]
    fn greets_by_name() {
        assert_eq!(handle(get("/?name=Ferris")), "Hello, Ferris!");
    }
}
