//! `cargo fn inspect <file.wasm> [--json]`: the portability report of any component.

use std::path::PathBuf;

use anyhow::Context as _;

/// Show the exports, imports (with the lowest WASI version each really
/// needs) and host compatibility of a component
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The component to inspect
    pub file: PathBuf,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

impl Args {
    /// Runs `cargo fn inspect`.
    pub fn run(self) -> anyhow::Result<()> {
        let bytes = std::fs::read(&self.file)
            .with_context(|| format!("cannot read {}", self.file.display()))?;
        let report = fn_pipeline::report::inspect(&bytes)
            .with_context(|| format!("cannot inspect {}", self.file.display()))?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            println!(
                "{}: {}",
                self.file.display(),
                fn_pipeline::human_size(report.size)
            );
            print!("{report}");
        }
        Ok(())
    }
}
