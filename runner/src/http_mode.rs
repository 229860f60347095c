//! `http` mode: an HTTP server on `0.0.0.0:$PORT`, what Google Cloud Run,
//! Cloud Functions (2nd gen) and container platforms expect. CloudEvents
//! from Eventarc arrive in binary mode and reach the function untouched.

use std::net::SocketAddr;

use anyhow::Context as _;
use fn_runtime::server;
use tokio::net::TcpListener;

use crate::Args;

/// `0.0.0.0:$PORT`, PORT defaulting to 8080.
pub fn default_addr(port: Option<String>) -> anyhow::Result<SocketAddr> {
    let port: u16 = match port {
        Some(port) => port
            .parse()
            .with_context(|| format!("$PORT = {port:?} is not a port number"))?,
        None => 8080,
    };
    Ok(SocketAddr::from(([0, 0, 0, 0], port)))
}

/// Serves until SIGTERM or Ctrl-C.
pub async fn run(args: &Args) -> anyhow::Result<()> {
    let loaded = crate::start::load(args.bundle.as_ref(), args.max_instances)?;
    let handler = crate::start::handler(loaded.function, &loaded.manifest, args)?;
    let addr = match args.addr {
        Some(addr) => addr,
        None => default_addr(std::env::var("PORT").ok())?,
    };
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    eprintln!("fn-runner: serving on http://{}", listener.local_addr()?);
    server::serve(listener, handler, server::shutdown_signal()).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_comes_from_the_environment() {
        assert_eq!(default_addr(None).unwrap().to_string(), "0.0.0.0:8080");
        assert_eq!(
            default_addr(Some("9000".into())).unwrap().to_string(),
            "0.0.0.0:9000"
        );
        let err = default_addr(Some("http".into())).unwrap_err().to_string();
        assert!(err.contains("not a port number"), "{err}");
    }
}
