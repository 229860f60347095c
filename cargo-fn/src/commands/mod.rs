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

/// Which package a command builds or reads: cargo's own selection flags,
/// shared by `build`, `publish` and `deploy`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PackageArgs {
    /// The package, in a workspace
    #[arg(long, short, value_name = "SPEC")]
    pub package: Option<String>,
    /// Path to Cargo.toml
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<std::path::PathBuf>,
}

impl PackageArgs {
    /// The package with its `[package.metadata.fn]`.
    pub fn load(&self) -> anyhow::Result<crate::metadata::FnPackage> {
        crate::metadata::FnPackage::load(self.manifest_path.as_deref(), self.package.as_deref())
    }
}

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
