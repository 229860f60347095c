//! `cargo fn replay`: a recorded call run again, offline, and compared.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use fn_runtime::recording::{Event, Recording};
use fn_runtime::{Replay, Runtime, RuntimeConfig};

use cargo_fn::args::BuildArgs;
use cargo_fn::run::parse_pair;

/// Replay a recorded call on the embedded runtime and say where it diverges
///
/// Runs the recorded request again and answers every outbound request,
/// key-value call, config read, clock reading and random draw from the
/// recording, never touching the network, a store or the clock. With the
/// recorded artifact the call gives the recorded response byte for byte;
/// with a changed one (the package built now, or --wasm), the report says
/// where it first did something else: a different outbound request or
/// key-value call, or a different response. Exits with 1 when it diverged.
///
/// Recordings come from `cargo fn serve --record DIR`, `fn-runner --record
/// DIR` (FN_RECORD_DIR) and `TestFunction::record`. Secrets were withheld
/// when recording; give them with --config when the call needs them.
///
/// Examples:
///   cargo fn replay recordings/20261204T101500.123Z-000007-POST-502.jsonl
///   cargo fn replay failed.jsonl --wasm target/fn/checkout.wasm --config payment_api_key=sk_test
///   cargo fn replay tests/recordings/      # every recording in the folder, one line each
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The recording (`*.jsonl`), or a directory of them to replay each
    /// (one line per file, and a summary)
    #[arg(value_name = "FILE|DIR")]
    pub recording: PathBuf,
    /// Replay on this component instead of building the package
    #[arg(long, value_name = "FILE", conflicts_with_all = ["package", "manifest_path"])]
    pub wasm: Option<PathBuf>,
    #[command(flatten)]
    pub build: BuildArgs,
    /// A config value for the run, for secrets the recording withheld
    /// (repeatable)
    #[arg(long = "config", value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub config: Vec<(String, String)>,
    /// Print the outcome as JSON
    #[arg(long)]
    pub json: bool,
}

impl Args {
    /// Runs `cargo fn replay`.
    pub fn run(self) -> anyhow::Result<()> {
        // A missing file is reported as such before anything is built.
        let recording = if self.recording.is_dir() {
            None
        } else {
            Some(Recording::from_file(&self.recording)?)
        };
        let artifact = match &self.wasm {
            Some(path) => {
                if !path.is_file() {
                    bail!("component file {} not found", path.display());
                }
                path.clone()
            }
            None => {
                fn_pipeline::build(&self.build.options(true))
                    .context("building the function to replay the call on")?
                    .artifact
            }
        };
        let runtime = Runtime::new(RuntimeConfig::default())?;
        let function = runtime
            .load(&artifact)
            .with_context(|| format!("loading {}", artifact.display()))?;
        for (key, value) in &self.config {
            function.set_config(key.clone(), value.clone());
        }
        let Some(recording) = recording else {
            return self.run_dir(&function);
        };
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let replay = tokio
            .block_on(function.replay(&recording))
            .with_context(|| format!("replaying {}", self.recording.display()))?;

        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&json(&recording, &replay))?
            );
        } else {
            print_report(&self, &recording, &artifact, function.digest(), &replay);
        }
        match replay.first_divergence() {
            None => Ok(()),
            Some(first) => bail!(
                "the replay diverged from the recording ({} divergence{}), first at {}",
                replay.divergences.len(),
                if replay.divergences.len() == 1 {
                    ""
                } else {
                    "s"
                },
                first.at
            ),
        }
    }
}

impl Args {
    /// Replays every `*.jsonl` in the directory, one line each, and fails
    /// when any diverged or was refused: a folder of recorded failures as a
    /// regression suite.
    fn run_dir(&self, function: &fn_runtime::Function) -> anyhow::Result<()> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.recording)
            .with_context(|| format!("reading {}", self.recording.display()))?
            .filter_map(|entry| Some(entry.ok()?.path()))
            .filter(|path| path.extension().is_some_and(|e| e == "jsonl"))
            .collect();
        files.sort();
        if files.is_empty() {
            bail!("{} holds no recordings (*.jsonl)", self.recording.display());
        }
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (mut identical, mut diverged, mut refused) = (0, 0, 0);
        let mut results = Vec::new();
        for file in &files {
            let name = file.file_name().unwrap_or_default().to_string_lossy();
            let outcome = Recording::from_file(file).and_then(|recording| {
                let replay = tokio.block_on(function.replay(&recording))?;
                Ok((recording, replay))
            });
            let line = match &outcome {
                Ok((_, replay)) if replay.is_identical() => {
                    identical += 1;
                    "identical".to_owned()
                }
                Ok((_, replay)) => {
                    diverged += 1;
                    let first = replay.first_divergence().expect("not identical");
                    format!("diverged at {}", first.at)
                }
                Err(err) => {
                    refused += 1;
                    format!("refused: {err}")
                }
            };
            if self.json {
                let mut result = match &outcome {
                    Ok((recording, replay)) => json(recording, replay),
                    Err(err) => serde_json::json!({"error": err.to_string()}),
                };
                result["file"] = serde_json::json!(file);
                results.push(result);
            } else {
                println!("{name}: {line}");
            }
        }
        if self.json {
            println!("{}", serde_json::to_string_pretty(&results)?);
        } else {
            println!(
                "{} replayed: {identical} identical, {diverged} diverged, {refused} refused",
                files.len()
            );
        }
        if diverged + refused > 0 {
            bail!(
                "{diverged} of {} recordings diverged and {refused} were refused",
                files.len()
            );
        }
        Ok(())
    }
}

fn recorded_status(recording: &Recording) -> Option<u16> {
    match recording.response() {
        Some(Event::Response { status, .. }) => Some(*status),
        _ => None,
    }
}

fn json(recording: &Recording, replay: &Replay) -> serde_json::Value {
    let divergences: Vec<serde_json::Value> = replay
        .divergences
        .iter()
        .map(|d| serde_json::json!({"at": d.at, "recorded": d.recorded, "replayed": d.replayed}))
        .collect();
    serde_json::json!({
        "function": recording.header.function,
        "recorded_artifact": recording.header.artifact,
        "identical": replay.is_identical(),
        "status": replay.result.status().as_u16(),
        "recorded_status": recorded_status(recording),
        "body": replay.result.text(),
        "divergences": divergences,
        "notes": replay.notes,
    })
}

/// Shortens a long value for the terminal.
fn clip(text: &str) -> String {
    const MAX: usize = 240;
    let text = text.replace('\n', "\\n");
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}… ({} bytes)", &text[..at], text.len()),
        None => text,
    }
}

fn print_report(
    args: &Args,
    recording: &Recording,
    artifact: &std::path::Path,
    digest: &str,
    replay: &Replay,
) {
    let (method, uri) = recording
        .events
        .iter()
        .find_map(|e| match e {
            Event::Request { method, uri, .. } => Some((method.as_str(), uri.as_str())),
            _ => None,
        })
        .unwrap_or(("?", "?"));
    let count = |pred: fn(&Event) -> bool| recording.events.iter().filter(|e| pred(e)).count();
    let outbound = count(|e| matches!(e, Event::Outbound { .. }));
    let kv = count(|e| matches!(e, Event::Kv { .. }));
    let clock = count(|e| matches!(e, Event::WallClock { .. } | Event::MonotonicClock { .. }));
    let same = if digest == recording.header.artifact {
        "the recorded artifact"
    } else {
        "a different artifact from the recorded one"
    };
    println!(
        "Replaying {}: {method} {uri} of `{}`, recorded {}",
        args.recording.display(),
        recording.header.function,
        recording.header.recorded_at
    );
    println!("  on {} ({same})", artifact.display());
    println!(
        "  recorded: {outbound} outbound request{}, {kv} key-value call{}, {clock} clock reading{}",
        plural(outbound),
        plural(kv),
        plural(clock)
    );
    let result = &replay.result;
    let recorded = recorded_status(recording)
        .map(|s| s.to_string())
        .unwrap_or_else(|| "none".into());
    println!(
        "Response: {} ({} bytes; recorded: {recorded})",
        result.status(),
        result.response.body().len()
    );
    if let Some(error) = &result.error {
        println!("  call error: {error}");
    }
    if replay.is_identical() {
        println!(
            "Identical: the same calls in the same order, and the same response byte for byte."
        );
    } else {
        println!(
            "Diverged from the recording in {} place{}:",
            replay.divergences.len(),
            plural(replay.divergences.len())
        );
        for (i, d) in replay.divergences.iter().enumerate() {
            println!("  {}. {}", i + 1, d.at);
            println!("       recorded: {}", clip(&d.recorded));
            println!("       this run: {}", clip(&d.replayed));
        }
    }
    for note in &replay.notes {
        println!("note: {note}");
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
