//! Command-line arguments shared by several commands: which package
//! ([`PackageArgs`]) and how to build it ([`BuildArgs`]), with cargo's own
//! flag names, mapped onto [`fn_pipeline::BuildOptions`] and passed to
//! `cargo build`.

use std::path::PathBuf;

use fn_pipeline::BuildOptions;

/// Which package a command works on, and where its build output lives:
/// cargo's selection flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PackageArgs {
    /// The package, in a workspace (default: the member whose folder this
    /// is, or the workspace's only function)
    #[arg(long, short, value_name = "SPEC")]
    pub package: Option<String>,
    /// Path to Cargo.toml
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Cargo's target directory (artifacts go to DIR/fn/)
    #[arg(long, value_name = "DIR")]
    pub target_dir: Option<PathBuf>,
}

impl PackageArgs {
    /// The build options selecting this package (default profile: dev).
    pub fn options(&self) -> BuildOptions {
        BuildOptions {
            manifest_path: self.manifest_path.clone(),
            package: self.package.clone(),
            target_dir: self.target_dir.clone(),
            ..BuildOptions::default()
        }
    }
}

/// How to build the package: cargo's profile, feature and lock-file flags,
/// passed through to `cargo build`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub package: PackageArgs,
    /// Build with the release profile (what you ship; the default of
    /// serve, invoke and publish)
    #[arg(long, short)]
    pub release: bool,
    /// Build with this cargo profile (dev, release, or one of yours)
    #[arg(long, value_name = "NAME", conflicts_with = "release")]
    pub profile: Option<String>,
    /// Features to activate, comma or space separated (repeatable)
    #[arg(long, short = 'F', value_name = "FEATURES")]
    pub features: Vec<String>,
    /// Activate all available features
    #[arg(long)]
    pub all_features: bool,
    /// Do not activate the `default` feature
    #[arg(long)]
    pub no_default_features: bool,
    /// Require Cargo.lock to be up to date
    #[arg(long)]
    pub locked: bool,
    /// Build without accessing the network
    #[arg(long)]
    pub offline: bool,
}

impl BuildArgs {
    /// The build options these flags ask for; `release_by_default` for the
    /// commands that build what ships (serve, invoke, publish).
    pub fn options(&self, release_by_default: bool) -> BuildOptions {
        BuildOptions {
            release: self.release || release_by_default,
            profile: self.profile.clone(),
            features: self.features.clone(),
            all_features: self.all_features,
            no_default_features: self.no_default_features,
            locked: self.locked,
            offline: self.offline,
            ..self.package.options()
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        build: BuildArgs,
    }

    fn options(args: &[&str], release_by_default: bool) -> BuildOptions {
        let cli = Cli::try_parse_from(std::iter::once("cli").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        cli.build.options(release_by_default)
    }

    #[test]
    fn cargo_flags_map_onto_the_build_options() {
        let opts = options(
            &[
                "-p",
                "orders",
                "--manifest-path",
                "w/Cargo.toml",
                "--target-dir",
                "out",
                "-F",
                "a,b",
                "--features",
                "c",
                "--no-default-features",
                "--locked",
                "--offline",
            ],
            false,
        );
        assert_eq!(opts.package.as_deref(), Some("orders"));
        assert_eq!(opts.manifest_path, Some(PathBuf::from("w/Cargo.toml")));
        assert_eq!(opts.target_dir, Some(PathBuf::from("out")));
        assert_eq!(opts.features, ["a,b", "c"]);
        assert!(opts.no_default_features && opts.locked && opts.offline);
        assert!(!opts.all_features);
        assert_eq!(opts.profile_name(), "dev");
    }

    #[test]
    fn the_profile_follows_the_flags_then_the_command() {
        assert_eq!(options(&[], false).profile_name(), "dev");
        assert_eq!(options(&[], true).profile_name(), "release");
        assert_eq!(options(&["-r"], false).profile_name(), "release");
        assert_eq!(
            options(&["--profile", "wasm-size"], true).profile_name(),
            "wasm-size"
        );
        assert_eq!(options(&["--profile", "dev"], true).profile_name(), "dev");
        assert!(Cli::try_parse_from(["cli", "--release", "--profile", "dev"]).is_err());
    }
}
