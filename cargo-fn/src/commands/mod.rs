//! One module per subcommand, each an `Args` struct (clap derive) whose
//! `run` translates the arguments into calls of the `cargo_fn` library and
//! prints the outcome. No command uses another; what they share lives in
//! the library.

pub mod bench;
pub mod build;
#[cfg(feature = "deploy")]
pub mod deploy;
pub mod inspect;
pub mod invoke;
pub mod keygen;
pub mod new;
#[cfg(feature = "deploy")]
pub mod publish;
#[cfg(feature = "deploy")]
pub mod pull;
pub mod replay;
pub mod serve;
pub mod sign;
pub mod verify;
