//! Benchmark of `cargo fn build` on the hello-world (http) template:
//!
//! - size: the final artifact against cargo's own component (targets: <= 64 KB);
//! - time: what a warm `cargo fn build --release` adds to a warm
//!   `cargo build --release --target wasm32-wasip2` with the same flags
//!   (target: <= 150 ms), end to end and for the post-compile steps alone.
//!
//! Run with `cargo bench -p cargo-fn --bench build`. Prints a table.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 15;

fn main() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let target = workspace.join("target/cargo-fn-bench");
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("hello-world");
    run(Command::new(env!("CARGO_BIN_EXE_cargo-fn"))
        .args(["fn", "new", "hello-world", "--sdk-path"])
        .arg(workspace.join("sdk"))
        .current_dir(tmp.path()));

    let cargo_fn = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-fn"));
        cmd.args(["fn", "build", "--release", "--json"])
            .current_dir(&project)
            .env("CARGO_TARGET_DIR", &target);
        cmd
    };
    eprintln!("cold build (compiles the SDK once)...");
    let json: serde_json::Value = serde_json::from_slice(&run(&mut cargo_fn()).stdout).unwrap();

    // Plain cargo with the very flags cargo fn passes, so it is warm too.
    let opts = fn_pipeline::BuildOptions {
        manifest_path: Some(project.join("Cargo.toml")),
        ..Default::default()
    };
    let package = fn_pipeline::cargo::locate(&fn_pipeline::BuildOptions {
        target_dir: Some(target.clone()),
        ..opts
    })
    .unwrap();
    let config = fn_pipeline::cargo::rustflags_config(&fn_pipeline::cargo::remap_flags(&package));
    let plain = || {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args([
            "build",
            "--release",
            "--lib",
            "--quiet",
            "--target",
            fn_pipeline::TARGET,
            "--config",
            &config,
        ])
        .arg("--target-dir")
        .arg(&target)
        .current_dir(&project);
        cmd
    };
    run(&mut plain());

    let warm_plain = median(
        (0..RUNS)
            .map(|_| time(|| drop(run(&mut plain()))))
            .collect(),
    );
    let warm_fn = median(
        (0..RUNS)
            .map(|_| time(|| drop(run(&mut cargo_fn()))))
            .collect(),
    );

    let raw_path = PathBuf::from(json["raw_artifact"].as_str().unwrap());
    let raw = std::fs::read(&raw_path).unwrap();
    let process_opts = fn_pipeline::ProcessOptions {
        package: "hello-world".into(),
        ..Default::default()
    };
    let post = median(
        (0..RUNS)
            .map(|_| time(|| drop(fn_pipeline::process(&raw, &process_opts).unwrap())))
            .collect(),
    );

    let raw_size = json["raw_size"].as_u64().unwrap();
    let final_size = json["final_size"].as_u64().unwrap();
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    let added = warm_fn.saturating_sub(warm_plain);
    println!("cargo fn build, hello-world (http template), release, median of {RUNS}");
    println!("| measure                                   | value       | target   |");
    println!("|-------------------------------------------|-------------|----------|");
    println!(
        "| cargo's component (raw)                   | {:>9} B |          |",
        raw_size
    );
    println!(
        "| target/fn/hello-world.wasm                | {:>9} B | <= 65536 |",
        final_size
    );
    println!(
        "| size reduction                            | {:>10.1}% |          |",
        100.0 * (1.0 - final_size as f64 / raw_size as f64)
    );
    println!(
        "| warm `cargo build` (same flags)           | {:>11} |          |",
        ms(warm_plain)
    );
    println!(
        "| warm `cargo fn build`                     | {:>11} |          |",
        ms(warm_fn)
    );
    println!(
        "| added by cargo fn build                   | {:>11} | <= 150ms |",
        ms(added)
    );
    println!(
        "| post-compile steps in process (fn_pipeline::process) | {:>5} |          |",
        ms(post)
    );
}

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{:?} failed:\n{}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn time(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}
