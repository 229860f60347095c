//! Errors of setting up the runtime and loading functions. Failures of a
//! single call are not errors: they are responses, see
//! [`CallError`](crate::CallError).

use std::path::{Path, PathBuf};

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why the runtime could not be built or a function could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The wasmtime engine or linker could not be set up.
    #[error("could not set up the wasmtime engine: {source}")]
    Engine {
        /// The underlying wasmtime error.
        source: Source,
    },
    /// The artifact could not be read.
    #[error("could not read the component `{}`: {source}; build it first (`cargo fn build`)", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bytes are not a valid component for this engine.
    #[error(
        "{}could not compile the component: {source}; is it a WASI 0.2 component (built by `cargo fn build`), not a core module?",
        at(path)
    )]
    Compile {
        /// The file, when known.
        path: Option<PathBuf>,
        /// The wasmtime error.
        source: Source,
    },
    /// The component imports something this runtime does not provide, or
    /// does not export `wasi:http/incoming-handler`.
    #[error(
        "{}the component cannot run here: {source}; functions may import only `wasi:http/proxy`, `wasi:keyvalue/{{store,atomics}}@0.2.0-draft` and `wasi:config/store@0.2.0-rc.1`, and must export `wasi:http/incoming-handler` (use `#[fnsdk::function]`)",
        at(path)
    )]
    Link {
        /// The file, when known.
        path: Option<PathBuf>,
        /// The wasmtime error.
        source: Source,
    },
    /// The on-disk cache of precompiled components could not be written.
    #[error("could not write the precompiled-component cache in `{}`: {source}; check permissions or pick another cache directory", dir.display())]
    Cache {
        /// The cache directory.
        dir: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Trusted keys were given and the artifact is unsigned, tampered with,
    /// or signed by another key.
    #[error("{}refusing to load the component: {reason}", at(path))]
    Verify {
        /// The file, when known.
        path: Option<PathBuf>,
        /// Which verification failure it is (not a `source`: the message
        /// already includes it).
        reason: fn_sign::VerifyError,
    },
    /// The limits asked for more than the runtime was configured for.
    #[error("invalid limits: {0}")]
    Limits(String),
    /// The key-value configuration is unusable (a Redis URL that does not
    /// parse, say).
    #[error("invalid key-value configuration: {0}")]
    KeyValue(String),
}

fn at(path: &Option<PathBuf>) -> String {
    match path {
        Some(path) => format!("{}: ", path.display()),
        None => String::new(),
    }
}

/// The whole chain of a wasmtime error, as one message.
fn source(err: wasmtime::Error) -> Source {
    format!("{err:#}").into()
}

impl Error {
    pub(crate) fn engine(err: wasmtime::Error) -> Self {
        Error::Engine {
            source: source(err),
        }
    }

    pub(crate) fn compile(err: wasmtime::Error) -> Self {
        Error::Compile {
            path: None,
            source: source(err),
        }
    }

    pub(crate) fn link(err: wasmtime::Error) -> Self {
        Error::Link {
            path: None,
            source: source(err),
        }
    }

    /// Attaches the artifact's path to errors that lack it.
    pub(crate) fn with_path(mut self, file: &Path) -> Self {
        match &mut self {
            Error::Compile { path, .. } | Error::Link { path, .. } | Error::Verify { path, .. } => {
                *path = Some(file.to_owned());
            }
            _ => {}
        }
        self
    }
}
