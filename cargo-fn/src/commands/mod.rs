//! One module per subcommand, each an `Args` struct (clap derive) with a
//! `run` method. Adding a command is one line in the `commands!` list below.

pub mod build;
pub mod deploy;
pub mod inspect;
pub mod invoke;
pub mod keygen;
pub mod new;
pub mod publish;
pub mod pull;
pub mod serve;
pub mod sign;
pub mod verify;

/// Declares [`Command`], the subcommands of `cargo fn`, and its dispatch.
macro_rules! commands {
    ($($(#[$doc:meta])* $variant:ident($module:ident),)*) => {
        /// The subcommands of `cargo fn`.
        #[derive(Debug, clap::Subcommand)]
        pub enum Command {
            $($(#[$doc])* $variant($module::Args),)*
        }

        impl Command {
            /// Runs the subcommand.
            pub fn run(self) -> anyhow::Result<()> {
                match self {
                    $(Command::$variant(args) => args.run(),)*
                }
            }
        }
    };
}

// Each command's help comes from the doc comment of its `Args`.
commands! {
    New(new),
    Build(build),
    Inspect(inspect),
    Invoke(invoke),
    Serve(serve),
    Keygen(keygen),
    Sign(sign),
    Verify(verify),
    Publish(publish),
    Pull(pull),
    Deploy(deploy),
}
