//! `cargo fn new <path> [--template http|event] [--sdk-path P]`: a ready
//! function project that builds and tests out of the box.

use std::path::PathBuf;

use fn_templates as templates;

/// Create a new function project from a template
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to create; its last component is the package name
    pub path: PathBuf,
    /// The template to start from
    #[arg(long, short, default_value = "http", value_parser = clap::builder::PossibleValuesParser::new(templates::names()))]
    pub template: String,
    /// Depend on the fnsdk crate in this directory (for working on the SDK
    /// itself) instead of the registry release matching this cargo-fn
    #[arg(long, value_name = "DIR")]
    pub sdk_path: Option<PathBuf>,
}

impl Args {
    /// Runs `cargo fn new`.
    pub fn run(self) -> anyhow::Result<()> {
        let name = cargo_fn::new::scaffold(&self.path, &self.template, self.sdk_path.as_deref())?;
        fn_pipeline::status_line(
            "Created",
            &format!("function `{name}` ({} template)", self.template),
        );
        let dir = self.path.display();
        println!(
            "next:\n  cd {dir}\n  cargo test                # unit tests, natively\n  cargo fn build --release  # target/fn/{name}.wasm"
        );
        Ok(())
    }
}
