//! The native runner (`fn-runner`) that Lambda, Azure Functions and Cloud
//! Run packages carry next to the component: found or built for the
//! deployment's CPU, static (musl), and cached between runs.
//!
//! Where it comes from, first match wins ([`Source::detect`]):
//!
//! 1. `$FN_RUNNER`: a prebuilt binary, used as it is;
//! 2. the checkout `cargo fn` was built from, when it still exists:
//!    `cargo build --release --locked -p fn-runner --target <triple>`;
//! 3. crates.io: `cargo install fn-runner --version =<this version>`.
//!
//! Builds go to `$FN_RUNNER_CACHE`, else `$XDG_CACHE_HOME/cargo-fn/runner`,
//! else `~/.cache/cargo-fn/runner`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};

/// The variable naming a prebuilt runner.
pub const RUNNER_ENV: &str = "FN_RUNNER";
/// The variable naming the cache directory of built runners.
pub const CACHE_ENV: &str = "FN_RUNNER_CACHE";
/// The runner's package (and binary) name.
pub const PACKAGE: &str = "fn-runner";

/// The CPU the runner is built for (Linux, statically linked with musl).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Arch {
    /// x86_64-unknown-linux-musl
    #[default]
    #[value(name = "x86_64", alias = "amd64")]
    X86_64,
    /// aarch64-unknown-linux-musl (AWS Graviton, Ampere)
    #[value(name = "arm64", alias = "aarch64")]
    Arm64,
}

impl Arch {
    /// The Rust target triple.
    pub fn triple(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-musl",
            Arch::Arm64 => "aarch64-unknown-linux-musl",
        }
    }

    /// The name on the command line (and Lambda's `Architectures` value).
    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }

    /// Whether this is the CPU `cargo fn` runs on (code precompiled here
    /// runs there).
    pub fn is_host(self) -> bool {
        match self {
            Arch::X86_64 => cfg!(target_arch = "x86_64"),
            Arch::Arm64 => cfg!(target_arch = "aarch64"),
        }
    }

    fn elf_machine(self) -> u16 {
        match self {
            Arch::X86_64 => object::elf::EM_X86_64,
            Arch::Arm64 => object::elf::EM_AARCH64,
        }
    }
}

/// Where the runner comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `$FN_RUNNER`: a binary used as it is.
    Prebuilt(PathBuf),
    /// The workspace (its `Cargo.toml`) `cargo fn` was built from.
    Checkout(PathBuf),
    /// `fn-runner` of this version on crates.io.
    CratesIo(String),
}

impl Source {
    /// The source in this environment (`env` looks variables up).
    pub fn detect(env: impl Fn(&str) -> Option<OsString>) -> Source {
        if let Some(path) = env(RUNNER_ENV).filter(|p| !p.is_empty()) {
            return Source::Prebuilt(PathBuf::from(path));
        }
        let runner = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../runner/Cargo.toml"));
        let workspace = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml"));
        if runner.is_file() && workspace.is_file() {
            return Source::Checkout(workspace.to_owned());
        }
        Source::CratesIo(env!("CARGO_PKG_VERSION").to_owned())
    }
}

/// A runner binary ready to pack.
#[derive(Debug, Clone)]
pub struct Runner {
    /// The executable.
    pub path: PathBuf,
    /// Where it came from.
    pub source: Source,
}

/// The cache of built runners (`env` looks variables up).
pub fn cache_dir(env: impl Fn(&str) -> Option<OsString>) -> anyhow::Result<PathBuf> {
    let set = |name| env(name).filter(|v: &OsString| !v.is_empty());
    if let Some(dir) = set(CACHE_ENV) {
        return Ok(PathBuf::from(dir));
    }
    let cache = match (set("XDG_CACHE_HOME"), set("HOME")) {
        (Some(xdg), _) => PathBuf::from(xdg),
        (None, Some(home)) => PathBuf::from(home).join(".cache"),
        (None, None) => bail!(
            "neither $HOME nor $XDG_CACHE_HOME is set; set ${CACHE_ENV} to a directory for built runners"
        ),
    };
    Ok(cache.join("cargo-fn").join("runner"))
}

impl Source {
    /// Where the runner of this source for `arch` is, or will be once built
    /// (`env` looks variables up).
    pub fn path(
        &self,
        arch: Arch,
        env: impl Fn(&str) -> Option<OsString>,
    ) -> anyhow::Result<PathBuf> {
        Ok(match self {
            Source::Prebuilt(path) => path.clone(),
            Source::Checkout(_) => cache_dir(env)?
                .join(arch.triple())
                .join("release")
                .join(PACKAGE),
            Source::CratesIo(version) => cache_dir(env)?
                .join(version)
                .join(arch.triple())
                .join("bin")
                .join(PACKAGE),
        })
    }
}

/// The runner for `arch` if one is there already ($FN_RUNNER, or built
/// before), without building anything.
pub fn existing(arch: Arch) -> Option<PathBuf> {
    let env = |name: &str| std::env::var_os(name);
    Source::detect(env)
        .path(arch, env)
        .ok()
        .filter(|path| path.is_file())
}

/// The runner for `arch`: `$FN_RUNNER`, or built (cached) from the
/// checkout or crates.io and checked to be a static executable for `arch`.
/// Progress goes to stderr.
pub fn runner(arch: Arch) -> anyhow::Result<Runner> {
    let env = |name: &str| std::env::var_os(name);
    let source = Source::detect(env);
    let path = match &source {
        Source::Prebuilt(path) => {
            check_executable(path)
                .with_context(|| format!("${RUNNER_ENV} = {}", path.display()))?;
            return Ok(Runner {
                path: path.clone(),
                source,
            });
        }
        Source::Checkout(manifest) => {
            let cache = cache_dir(env)?;
            let dir = manifest.parent().unwrap_or(Path::new("."));
            check_toolchain(arch, dir)?;
            eprintln!(
                "     Building {PACKAGE} for {} from {} into {} (the first build takes a few minutes)",
                arch.triple(),
                dir.display(),
                cache.display()
            );
            let mut cmd = cargo_command(arch);
            cmd.args(["build", "--release", "--locked", "-p", PACKAGE])
                .args(["--target", arch.triple()])
                .arg("--manifest-path")
                .arg(manifest)
                .arg("--target-dir")
                .arg(&cache)
                .current_dir(dir);
            run(cmd, "cargo build -p fn-runner")?;
            source.path(arch, env)?
        }
        Source::CratesIo(version) => {
            let root = cache_dir(env)?.join(version).join(arch.triple());
            let path = source.path(arch, env)?;
            if !path.is_file() {
                let cwd = std::env::current_dir().context("cannot read the current directory")?;
                check_toolchain(arch, &cwd)?;
                eprintln!(
                    "   Installing {PACKAGE} {version} for {} from crates.io into {} (the first build takes a few minutes)",
                    arch.triple(),
                    root.display()
                );
                let mut cmd = cargo_command(arch);
                cmd.args(["install", PACKAGE, "--locked"])
                    .arg("--version")
                    .arg(format!("={version}"))
                    .args(["--target", arch.triple()])
                    .arg("--root")
                    .arg(&root);
                run(cmd, "cargo install fn-runner")?;
            }
            path
        }
    };
    check_executable(&path)?;
    let data = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    check_static(&data, arch).with_context(|| {
        format!(
            "{} cannot be packed: Lambda's and Azure's Linux images need a static executable",
            path.display()
        )
    })?;
    Ok(Runner { path, source })
}

/// `cargo` (the one that started us) without the variables of an outer
/// build that would redirect or reconfigure this one.
fn cargo_command(arch: Arch) -> Command {
    let mut cmd = Command::new(fn_pipeline::cargo::cargo());
    for var in [
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_TARGET_DIR",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
    ] {
        cmd.env_remove(var);
    }
    // Symbols are a third of the binary, and every byte of it is in the
    // bundle a cold start downloads (Lambda's zip limit is 50 MB).
    cmd.env("CARGO_PROFILE_RELEASE_STRIP", "symbols");
    if arch == Arch::Arm64 && std::env::var_os(LINKER_ENV).is_none() && on_path(CROSS_GCC) {
        cmd.env(LINKER_ENV, CROSS_GCC);
    }
    cmd.stdout(Stdio::inherit()).stderr(Stdio::inherit());
    cmd
}

fn run(mut cmd: Command, what: &str) -> anyhow::Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot run `{what}`"))?;
    if !status.success() {
        bail!("`{what}` failed ({status}); see cargo's output above");
    }
    Ok(())
}

const LINKER_ENV: &str = "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER";
const CROSS_GCC: &str = "aarch64-linux-gnu-gcc";

/// The Rust standard library for `arch` is installed for the toolchain
/// used in `dir`, and arm64 has a linker.
fn check_toolchain(arch: Arch, dir: &Path) -> anyhow::Result<()> {
    let sysroot = fn_pipeline::toolchain::sysroot(dir)?;
    let lib = sysroot.join("lib/rustlib").join(arch.triple()).join("lib");
    if !lib.is_dir() {
        bail!(
            "the Rust target {triple} is not installed (no {}); run `rustup target add {triple}`",
            lib.display(),
            triple = arch.triple()
        );
    }
    if arch == Arch::Arm64 && !arm64_linker_configured(|name| std::env::var_os(name)) {
        bail!(
            "building {PACKAGE} for {} needs a linker for arm64 and none is set up: install one \
             (Debian/Ubuntu: `apt-get install gcc-aarch64-linux-gnu`, which provides {CROSS_GCC}), \
             or point cargo at yours with {LINKER_ENV}=<linker> \
             (rust-lld works too: {LINKER_ENV}=rust-lld with \
             CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUSTFLAGS=\"-C linker-flavor=ld.lld\"); \
             or build it elsewhere and set {RUNNER_ENV}=/path/to/fn-runner",
            arch.triple()
        );
    }
    Ok(())
}

/// Whether cargo will find a linker for aarch64-unknown-linux-musl.
fn arm64_linker_configured(env: impl Fn(&str) -> Option<OsString>) -> bool {
    let rustflags = env("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUSTFLAGS")
        .is_some_and(|f| f.to_string_lossy().contains("linker"));
    env(LINKER_ENV).is_some() || rustflags || on_path(CROSS_GCC)
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// `path` is a file this user may execute.
fn check_executable(path: &Path) -> anyhow::Result<()> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("there is no runner at {}", path.display()))?;
    if !meta.is_file() {
        bail!("{} is not a file", path.display());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if meta.permissions().mode() & 0o111 == 0 {
            bail!(
                "{} is not executable (chmod +x it, or point {RUNNER_ENV} at the built binary)",
                path.display()
            );
        }
    }
    Ok(())
}

/// `elf` is a 64-bit ELF executable for `arch` that needs no dynamic loader
/// and no shared library: no `PT_INTERP`, no `DT_NEEDED`.
pub fn check_static(elf: &[u8], arch: Arch) -> anyhow::Result<()> {
    use object::read::elf::{Dyn as _, FileHeader as _, ProgramHeader as _};
    let header = object::elf::FileHeader64::<object::Endianness>::parse(elf)
        .map_err(|e| anyhow::anyhow!("not a 64-bit ELF executable: {e}"))?;
    let endian = header
        .endian()
        .map_err(|e| anyhow::anyhow!("not a 64-bit ELF executable: {e}"))?;
    let machine = header.e_machine(endian);
    if machine != arch.elf_machine() {
        bail!(
            "it is built for another CPU (ELF machine {machine}), not {}",
            arch.triple()
        );
    }
    let headers = header
        .program_headers(endian, elf)
        .map_err(|e| anyhow::anyhow!("unreadable ELF program headers: {e}"))?;
    for ph in headers {
        let bad = |e: object::read::Error| anyhow::anyhow!("unreadable ELF segment: {e}");
        if let Some(interp) = ph.interpreter(endian, elf).map_err(bad)? {
            bail!(
                "it is dynamically linked (loader {}); build it for {} (static musl)",
                String::from_utf8_lossy(interp),
                arch.triple()
            );
        }
        if let Some(entries) = ph.dynamic(endian, elf).map_err(bad)?
            && entries
                .iter()
                .any(|d| d.d_tag(endian) == object::elf::DT_NEEDED)
        {
            bail!(
                "it needs shared libraries (DT_NEEDED); build it for {} (static musl)",
                arch.triple()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let vars: Vec<(String, OsString)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn the_source_is_the_prebuilt_binary_then_this_checkout() {
        assert_eq!(
            Source::detect(env(&[("FN_RUNNER", "/opt/fn-runner")])),
            Source::Prebuilt("/opt/fn-runner".into())
        );
        // The tests run from a checkout.
        let Source::Checkout(manifest) = Source::detect(env(&[("FN_RUNNER", "")])) else {
            panic!("a checkout");
        };
        assert!(manifest.ends_with("cargo-fn/../Cargo.toml"), "{manifest:?}");
    }

    #[test]
    fn the_cache_follows_xdg() {
        let dir = |vars: &[(&str, &str)]| cache_dir(env(vars)).unwrap();
        assert_eq!(
            dir(&[("HOME", "/home/u")]),
            Path::new("/home/u/.cache/cargo-fn/runner")
        );
        assert_eq!(
            dir(&[("HOME", "/home/u"), ("XDG_CACHE_HOME", "/c")]),
            Path::new("/c/cargo-fn/runner")
        );
        assert_eq!(
            dir(&[("XDG_CACHE_HOME", "/c"), ("FN_RUNNER_CACHE", "/r")]),
            Path::new("/r")
        );
        let err = cache_dir(env(&[])).unwrap_err().to_string();
        assert!(err.contains("FN_RUNNER_CACHE"), "{err}");
    }

    #[test]
    fn arm64_needs_a_linker() {
        let flags = env(&[(
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUSTFLAGS",
            "-C linker=rust-lld -C linker-flavor=ld.lld",
        )]);
        assert!(arm64_linker_configured(flags));
        assert!(arm64_linker_configured(env(&[(LINKER_ENV, "cc")])));
        assert_eq!(arm64_linker_configured(env(&[])), on_path(CROSS_GCC));
    }

    /// A minimal ELF64 little-endian executable with the given program
    /// header types; PT_DYNAMIC segments hold one entry of tag `dyn_tag`.
    fn elf(machine: u16, segments: &[u32], dyn_tag: i64) -> Vec<u8> {
        let phoff = 64u64;
        let data_off = phoff + 56 * segments.len() as u64;
        let mut out = vec![0u8; 64];
        out[..4].copy_from_slice(b"\x7fELF");
        out[4] = 2; // 64-bit
        out[5] = 1; // little-endian
        out[6] = 1; // version
        out[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
        out[18..20].copy_from_slice(&machine.to_le_bytes());
        out[20..24].copy_from_slice(&1u32.to_le_bytes());
        out[32..40].copy_from_slice(&phoff.to_le_bytes());
        out[52..54].copy_from_slice(&64u16.to_le_bytes());
        out[54..56].copy_from_slice(&56u16.to_le_bytes());
        out[56..58].copy_from_slice(&(segments.len() as u16).to_le_bytes());
        let payload: Vec<u8> = [dyn_tag.to_le_bytes(), 0u64.to_le_bytes()]
            .concat()
            .into_iter()
            .chain(*b"/lib/ld.so\0\0\0\0\0\0")
            .collect();
        for &ty in segments {
            let (off, size) = match ty {
                object::elf::PT_DYNAMIC => (data_off, 16u64),
                object::elf::PT_INTERP => (data_off + 16, 11),
                _ => (0, 0),
            };
            let mut ph = vec![0u8; 56];
            ph[..4].copy_from_slice(&ty.to_le_bytes());
            ph[8..16].copy_from_slice(&off.to_le_bytes());
            ph[32..40].copy_from_slice(&size.to_le_bytes());
            ph[40..48].copy_from_slice(&size.to_le_bytes());
            out.extend(ph);
        }
        out.extend(payload);
        out
    }

    #[test]
    fn only_static_executables_for_the_arch_pass() {
        use object::elf::{
            DT_NEEDED, DT_RELA, EM_AARCH64, EM_X86_64, PT_DYNAMIC, PT_INTERP, PT_LOAD,
        };
        check_static(&elf(EM_X86_64, &[PT_LOAD], 0), Arch::X86_64).unwrap();
        // static-pie: a dynamic segment for relocations, no libraries.
        check_static(
            &elf(EM_X86_64, &[PT_LOAD, PT_DYNAMIC], DT_RELA),
            Arch::X86_64,
        )
        .unwrap();
        let refused = |elf: Vec<u8>, arch| check_static(&elf, arch).unwrap_err().to_string();
        let err = refused(elf(EM_X86_64, &[PT_LOAD, PT_INTERP], 0), Arch::X86_64);
        assert!(
            err.contains("dynamically linked (loader /lib/ld.so)"),
            "{err}"
        );
        let err = refused(elf(EM_X86_64, &[PT_DYNAMIC], DT_NEEDED), Arch::X86_64);
        assert!(err.contains("shared libraries"), "{err}");
        let err = refused(elf(EM_X86_64, &[PT_LOAD], 0), Arch::Arm64);
        assert!(err.contains("another CPU"), "{err}");
        check_static(&elf(EM_AARCH64, &[PT_LOAD], 0), Arch::Arm64).unwrap();
        let err = refused(b"#!/bin/sh\n".to_vec(), Arch::X86_64);
        assert!(err.contains("not a 64-bit ELF"), "{err}");
    }

    #[test]
    fn this_test_binary_is_judged_by_how_it_was_linked() {
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let arch = if cfg!(target_arch = "aarch64") {
            Arch::Arm64
        } else {
            Arch::X86_64
        };
        let result = check_static(&exe, arch);
        assert_eq!(result.is_ok(), cfg!(target_env = "musl"), "{result:?}");
    }
}
