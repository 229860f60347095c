//! Errors of the build pipeline. Every message says what went wrong and what
//! to do about it.

use std::path::PathBuf;

/// A problem with a WebAssembly binary: reading, rewriting or validating it.
#[derive(Debug, thiserror::Error)]
pub enum WasmError {
    /// The bytes are not WebAssembly.
    #[error("not valid WebAssembly")]
    Parse(#[from] wasmparser::BinaryReaderError),
    /// A section's declared size runs past the end of the file.
    #[error("not valid WebAssembly: a section runs past the end of the file (truncated?)")]
    Truncated,
    /// The file is empty or has no WebAssembly header.
    #[error("the file is empty or is not WebAssembly")]
    Empty,
    /// A core module was given where a component is needed.
    #[error(
        "this is a core WebAssembly module, not a component; build it for the wasm32-wasip2 target \
         (`cargo fn build` does) to get a component"
    )]
    NotAComponent,
    /// The component is not laid out the way `wasm-component-ld` lays components out.
    #[error("cannot rewrite this component: {0}")]
    UnsupportedLayout(String),
    /// The component's WIT could not be decoded.
    #[error("cannot decode the component's interfaces: {0}")]
    Decode(String),
    /// Re-encoding the component failed.
    #[error("cannot re-encode the component: {0}")]
    Encode(String),
    /// The component imports interfaces outside the portable contract.
    #[error("{}", outside_contract_message(.0))]
    OutsideContract(Vec<String>),
    /// The result does not validate.
    #[error("the component does not validate: {0}")]
    Invalid(String),
}

fn outside_contract_message(imports: &[String]) -> String {
    let mut msg = String::from(
        "the component imports interfaces outside the portable contract \
         (wasi:http/proxy plus wasi:keyvalue store/atomics and wasi:config/store):",
    );
    for import in imports {
        msg.push_str(&format!(
            "\n  - {import}: {}",
            outside_contract_hint(import)
        ));
    }
    msg.push_str(
        "\nno portable host provides these; remove the code (or dependency) that uses them",
    );
    msg
}

/// What usually pulls in an interface outside the contract.
pub(crate) fn outside_contract_hint(import: &str) -> &'static str {
    let (name, _) = crate::wit::split_versioned(import);
    match name.split_once('/').map(|(pkg, _)| pkg) {
        Some("wasi:filesystem") => {
            "file access (std::fs, or a crate that reads files); functions have no file system"
        }
        Some("wasi:sockets") => "raw network access (std::net); use fnsdk::outbound for HTTP calls",
        Some("wasi:keyvalue") => {
            "only the store and atomics interfaces of wasi:keyvalue are portable"
        }
        Some("wasi:random") => "only wasi:random/random is portable",
        Some("wasi:clocks") => "only the monotonic and wall clocks are portable",
        _ => "a dependency imports it",
    }
}

/// Why `fn_pipeline::build` failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// `cargo metadata` failed.
    #[error("cannot read the package at {manifest}: {message}")]
    Metadata {
        /// The manifest that was read.
        manifest: String,
        /// Cargo's complaint.
        message: String,
    },
    /// `-p` named a package that is not in the workspace.
    #[error("package `{name}` is not in this workspace; its packages are: {available}")]
    PackageNotFound {
        /// The requested package.
        name: String,
        /// The workspace's packages.
        available: String,
    },
    /// A virtual workspace with several candidates and no `-p`.
    #[error("this workspace has several packages ({available}); pick one with `-p <name>`")]
    AmbiguousPackage {
        /// The candidates.
        available: String,
    },
    /// The package does not build a cdylib.
    #[error(
        "package `{package}` does not build a `cdylib`, so it cannot become a WebAssembly component.\n\
         Add this to {manifest}:\n\n    [lib]\n    crate-type = [\"cdylib\", \"rlib\"]\n"
    )]
    NotCdylib {
        /// The package.
        package: String,
        /// Its manifest.
        manifest: String,
    },
    /// The wasm32-wasip2 target is missing and could not be installed.
    #[error(
        "the wasm32-wasip2 target is not installed for the toolchain at {sysroot} ({detail}); \
         install it with `rustup target add wasm32-wasip2` and build again"
    )]
    TargetMissing {
        /// The toolchain's sysroot.
        sysroot: String,
        /// What happened when we tried to install it.
        detail: String,
    },
    /// A tool could not be started.
    #[error("cannot run `{command}`; is the Rust toolchain installed and on PATH?")]
    Spawn {
        /// The command line.
        command: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Cargo failed; its diagnostics went to stderr already.
    #[error("`cargo build` for wasm32-wasip2 failed ({status}); see the compiler messages above")]
    CargoFailed {
        /// Cargo's exit status.
        status: std::process::ExitStatus,
    },
    /// Cargo succeeded but reported no `.wasm` for the package.
    #[error(
        "cargo built `{package}` but reported no .wasm file for it; check that its [lib] section \
         has crate-type = [\"cdylib\", ...]"
    )]
    NoArtifact {
        /// The package.
        package: String,
    },
    /// The component exports no `wasi:http/incoming-handler`: no `#[function]`.
    #[error(
        "package `{package}` exports no function: its component has no `wasi:http/incoming-handler` \
         export{found}. Mark your handler with `#[fnsdk::function]` (exactly one per crate), e.g.\n\n    \
         #[fnsdk::function]\n    fn handler(req: fnsdk::Request) -> &'static str {{ \"hello\" }}\n"
    )]
    NoFunction {
        /// The package.
        package: String,
        /// `" (it exports: ...)"` or empty.
        found: String,
    },
    /// A `--require-host` cannot run the artifact.
    #[error("{host} cannot run this function:{}\n(you asked for it with --require-host {id})", bullet_list(.reasons))]
    HostIncompatible {
        /// The host's id.
        id: String,
        /// The host's name.
        host: String,
        /// Why not.
        reasons: Vec<String>,
    },
    /// No adapter of that name is embedded (fn-templates' `adapters/`).
    #[error("no adapter `{0}` in fn-templates; known adapters: {known}", known = fn_templates::adapter_names().join(", "))]
    UnknownAdapter(String),
    /// `--require-host` named an unknown host.
    #[error("unknown host `{0}`; known hosts: {known}", known = crate::hosts::ids().join(", "))]
    UnknownHost(String),
    /// Reading or writing a file failed.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// `"read"`, `"write"`, ...
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The component could not be processed.
    #[error(transparent)]
    Wasm(#[from] WasmError),
    /// The code's declarations and `[package.metadata.fn]` disagree.
    #[error("the code of `{package}` and its [package.metadata.fn] disagree (the code is the source; fix the table):{}", bullet_list(.problems))]
    Undeclared {
        /// The package.
        package: String,
        /// Each disagreement, with its fix.
        problems: Vec<String>,
    },
    /// wasm-opt failed or is not available.
    #[error("wasm-opt: {0}")]
    Optimizer(String),
    /// Signing the artifact (`--sign`) failed; nothing was written.
    #[error("cannot sign the artifact: {0}")]
    Sign(String),
}

fn bullet_list(items: &[String]) -> String {
    items.iter().map(|i| format!("\n  - {i}")).collect()
}
