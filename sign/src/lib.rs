//! Sign and verify WebAssembly modules and components in the
//! [tool-conventions signature format] that [wasmsign2] reads and writes:
//! a `signature` custom section, placed first, holding an Ed25519 signature
//! over the SHA-256 of everything after it.
//!
//! ```
//! use fn_sign::{KeyPair, VerifyError, sign, verify};
//!
//! // A tiny core module: header plus one custom section.
//! let wasm = b"\0asm\x01\0\0\0\0\x06\x04note!".to_vec();
//!
//! let alice = KeyPair::generate();
//! let signed = sign(&wasm, &alice.secret)?;
//! let ok = verify(&signed, &[alice.public]).expect("signed by a trusted key");
//! assert_eq!(ok.signer, alice.public);
//!
//! // A byte changed after signing is caught, and so is another signer.
//! let mut tampered = signed.clone();
//! *tampered.last_mut().unwrap() ^= 1;
//! assert!(matches!(verify(&tampered, &[alice.public]), Err(VerifyError::ContentModified { .. })));
//! let bob = KeyPair::generate();
//! assert!(matches!(verify(&signed, &[bob.public]), Err(VerifyError::UntrustedKey { .. })));
//! # Ok::<(), fn_sign::SignError>(())
//! ```
//!
//! Key files use wasmsign2's encoding (see [`keys`]), so `wasmsign2 verify`
//! accepts artifacts and keys from here, and [`verify`] accepts artifacts
//! signed by `wasmsign2 sign`.
//!
//! The 8-byte header is not covered by the hash (as in wasmsign2); it is
//! checked to be a module or component header.
//!
//! [tool-conventions signature format]: https://github.com/WebAssembly/tool-conventions/blob/main/Signatures.md
//! [wasmsign2]: https://github.com/wasm-signatures/wasmsign2

mod error;
pub mod format;
pub mod keys;
mod module;
mod reader;
mod sign;
mod verify;

pub use error::{KeyError, SignError, VerifyError};
pub use keys::{KeyPair, PublicKey, SecretKey};
pub use module::{SIGNATURE_SECTION_NAME, WasmKind};
pub use sign::{is_signed, sign, strip_signature};
pub use verify::{Verified, verify};
