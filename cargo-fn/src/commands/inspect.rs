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
    /// For a composition (what `cargo fn deploy --provider spin` writes):
    /// the published layer digest the function inside must have (default:
    /// the current package's last `cargo fn publish`, if any)
    #[arg(long, value_name = "sha256:HEX")]
    pub function_digest: Option<String>,
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
        if report.nested.is_empty() {
            return Ok(());
        }
        let published = match self.function_digest {
            Some(digest) => Some((digest, "--function-digest".to_owned())),
            None => last_published(),
        };
        if let Some((digest, from)) = published {
            if report.nested.iter().any(|n| n.digest == digest) {
                eprintln!("the function inside is {digest}, byte for byte: {from}");
            } else {
                anyhow::bail!(
                    "no component inside {} is {digest} ({from}); it holds {}",
                    self.file.display(),
                    report
                        .nested
                        .iter()
                        .map(|n| n.digest.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        Ok(())
    }
}

/// The layer digest of the current package's last `cargo fn publish`, and
/// where it comes from; `None` outside a package or before a publish.
#[cfg(not(feature = "deploy"))]
fn last_published() -> Option<(String, String)> {
    None
}

/// The layer digest of the current package's last `cargo fn publish`, and
/// where it comes from; `None` outside a package or before a publish.
#[cfg(feature = "deploy")]
fn last_published() -> Option<(String, String)> {
    let package = cargo_fn::package::FnPackage::load(&fn_pipeline::BuildOptions::default()).ok()?;
    let path = cargo_fn::publish::Record::path(&package);
    let record = cargo_fn::publish::Record::read(&path)?;
    Some((
        record.layer_digest,
        format!("the published component {}", record.reference),
    ))
}
