//! `cargo fn build`: compile the function for wasm32-wasip2 and turn cargo's
//! component into the portable artifact `target/fn/<name>.wasm`.

use std::path::PathBuf;

use anyhow::Context as _;
use cargo_fn::args::BuildArgs;
use cargo_fn::keys;
use fn_pipeline::{BuildOptions, human_size};

/// Build the function into a portable WebAssembly component
///
/// Compiles for wasm32-wasip2, supplies inside the artifact the WASI
/// interfaces Rust's std pulls in but no proxy host provides, strips custom
/// sections, validates, writes target/fn/<name>.wasm and reports which hosts
/// can run it. With --sign, signs the written artifact as the very last step.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub build: BuildArgs,
    /// Fail unless this host can run the artifact (repeatable)
    #[arg(long = "require-host", alias = "target-host", value_name = "HOST", value_parser = clap::builder::PossibleValuesParser::new(fn_pipeline::hosts::ids()))]
    pub required_hosts: Vec<String>,
    /// Sign the artifact with this secret key, after every other step
    #[arg(long, value_name = "KEY")]
    pub sign: Option<PathBuf>,
    /// Keep custom sections (names, producers, debug info)
    #[arg(long)]
    pub keep_debug: bool,
    /// Keep the WASI import versions cargo's component has (by default each
    /// WASI 0.2 import is renamed to the lowest 0.2.x that has everything
    /// the function uses from it, so hosts that link by exact version run it)
    #[arg(long)]
    pub keep_wasi_versions: bool,
    /// Binaryen's optimiser over the main core module: a level (0, 1, 2, 3,
    /// 4, s, z) or `none`. Default: `wasm-opt` in [package.metadata.fn],
    /// else `s` for release builds and none for others. Binaryen is the one
    /// built into cargo-fn (its `wasm-opt` feature), else the `wasm-opt`
    /// executable named by FN_WASM_OPT or found on PATH; without any,
    /// release builds are not optimised
    #[arg(long, value_name = "LEVEL")]
    pub wasm_opt: Option<fn_pipeline::WasmOpt>,
    /// Print the result as JSON on stdout
    #[arg(long)]
    pub json: bool,
    /// Print no progress, only errors
    #[arg(long, short)]
    pub quiet: bool,
}

impl Args {
    /// Runs `cargo fn build`.
    pub fn run(self) -> anyhow::Result<()> {
        // Read the key first, so a wrong path fails before a long build.
        let key = self
            .sign
            .as_deref()
            .map(keys::load_secret_key)
            .transpose()?;
        let opts = BuildOptions {
            keep_debug: self.keep_debug,
            keep_wasi_versions: self.keep_wasi_versions,
            required_hosts: self.required_hosts,
            quiet: self.quiet || self.json,
            wasm_opt: self.wasm_opt.unwrap_or_default(),
            // Signed before the artifact is written, in the same write.
            sign: key,
            ..self.build.options(false)
        };
        let built = fn_pipeline::build(&opts).context("the function was not built")?;
        let signer = built.signer;
        let final_size = built.final_size;
        if self.json {
            let json = serde_json::json!({
                "package": built.package,
                "artifact": built.artifact,
                "raw_artifact": built.raw_artifact,
                "raw_size": built.raw_size,
                "final_size": final_size,
                "signer_key_id": signer.map(|k| k.key_id_hex()),
                "stubbed": built.stubbed,
                "lowered": built.lowered,
                "declared": built.declared,
                "cargo_ms": built.cargo_time.as_secs_f64() * 1000.0,
                "post_ms": built.post_time.as_secs_f64() * 1000.0,
                "wasm_opt": built.optimized.map(|o| serde_json::json!({
                    "level": o.level.to_string(),
                    "tool": o.tool,
                    "before": o.before,
                    "after": o.after,
                    "ms": o.time.as_secs_f64() * 1000.0,
                })),
                "report": built.report,
            });
            println!("{}", serde_json::to_string_pretty(&json)?);
            return Ok(());
        }
        if !self.quiet {
            println!(
                "{}: {} (cargo's component: {}, {:.0}% smaller)",
                built.artifact.display(),
                human_size(final_size),
                human_size(built.raw_size),
                100.0 * (1.0 - final_size as f64 / built.raw_size.max(1) as f64)
            );
            if let Some(o) = built.optimized {
                println!(
                    "wasm-opt {} ({}): {} -> {} before stripping ({:.0}% smaller, {:.1} s)",
                    o.level,
                    o.tool,
                    human_size(o.before),
                    human_size(o.after),
                    100.0 * (1.0 - o.after as f64 / o.before.max(1) as f64),
                    o.time.as_secs_f64()
                );
            }
            if let Some(signer) = signer {
                println!("signed by key id {signer}");
            }
            if !built.stubbed.is_empty() {
                println!("supplied inside the artifact: {}", built.stubbed.join(", "));
            }
            if !built.lowered.is_empty() {
                println!(
                    "WASI imports lowered to the version they need: {}",
                    built
                        .lowered
                        .iter()
                        .map(|(old, new)| format!(
                            "{old} -> {}",
                            new.rsplit_once('@').map_or(new.as_str(), |(_, v)| v)
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            print!("{}", built.report);
        }
        Ok(())
    }
}
