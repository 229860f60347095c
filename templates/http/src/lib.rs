//! An HTTP function: `cargo fn build` turns it into one WebAssembly component
//! that any `wasi:http/proxy` host can run.

use fnsdk::{Request, RequestExt, function};

/// Answers every request with a greeting: `GET /?name=Ferris` → `Hello, Ferris!`.
///
/// `async`, so it can `.await` outbound requests (`fnsdk::outbound::fetch`,
/// several at once with `fnsdk::task::join`); a plain `fn` works too. More
/// parameters (`Json<T>`, `Query<T>`, `HeaderMap`, ...) are taken from the
/// request, and `fnsdk::router::Router` serves several routes.
#[function]
async fn handle(req: Request) -> String {
    let name = req.query_param("name").unwrap_or_else(|| "world".into());
    format!("Hello, {name}!")
}

// The handler is a plain Rust function: test it natively with `cargo test`.
#[cfg(test)]
mod tests {
    use super::*;
    use fnsdk::testing::{block_on, get};

    #[test]
    fn greets_the_world() {
        assert_eq!(block_on(handle(get("/"))), "Hello, world!");
    }

    #[test]
    fn greets_by_name() {
        assert_eq!(block_on(handle(get("/?name=Ferris"))), "Hello, Ferris!");
    }
}
