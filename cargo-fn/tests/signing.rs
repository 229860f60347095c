//! `cargo fn keygen`, `sign`, `verify` and `build --sign`, driving the real
//! binary on a template built once per test run.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::*;

/// A scaffolded `http` project built once (unsigned), a key pair, and a
/// copy of the unsigned artifact that no test writes to.
struct Fixture {
    _tmp: tempfile::TempDir,
    project: PathBuf,
    secret: PathBuf,
    public: PathBuf,
    unsigned: PathBuf,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let (tmp, project) = scaffold("signed-fn", "http");
        let json = build_json(&project, &[]);
        let unsigned = tmp.path().join("unsigned.wasm");
        std::fs::copy(artifact(&json), &unsigned).expect("copy the artifact");
        let keys = tmp.path().join("keys");
        success(&keygen(&keys, &["--name", "release"]));
        Fixture {
            secret: keys.join("release.key"),
            public: keys.join("release.pub"),
            _tmp: tmp,
            project,
            unsigned,
        }
    })
}

/// `cargo fn keygen --out-dir <dir> <extra>`.
fn keygen(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["keygen", "--out-dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    cargo_fn(dir.parent().unwrap(), &args)
}

/// Runs a command on paths, in the fixture's temp dir.
fn run(args: &[&Path]) -> std::process::Output {
    let args: Vec<&str> = args.iter().map(|a| a.to_str().unwrap()).collect();
    cargo_fn(fixture().project.parent().unwrap(), &args)
}

/// The unsigned artifact signed into `dir/name`.
fn signed_copy(dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    let f = fixture();
    success(&run(&[
        "sign".as_ref(),
        &f.unsigned,
        "--key".as_ref(),
        &f.secret,
        "-o".as_ref(),
        &out,
    ]));
    out
}

fn verify(file: &Path, keys: &[&Path]) -> std::process::Output {
    let mut args: Vec<&Path> = vec!["verify".as_ref(), file];
    for key in keys {
        args.extend(["--key".as_ref(), *key]);
    }
    run(&args)
}

fn key_id(public: &Path) -> String {
    fn_sign::PublicKey::from_file(public).unwrap().key_id_hex()
}

#[test]
#[cfg(unix)]
fn keygen_writes_an_owner_only_secret_key_and_refuses_to_overwrite() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("keys");
    let stdout = success(&keygen(&dir, &["--name", "ci"]));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.join("ci.key")), 0o600);
    assert_eq!(
        mode(&dir.join("ci.pub")) & 0o077,
        0o044,
        "public key readable"
    );
    let secret = fn_sign::SecretKey::from_file(dir.join("ci.key")).unwrap();
    let public = fn_sign::PublicKey::from_file(dir.join("ci.pub")).unwrap();
    assert_eq!(secret.public_key(), public, "the files are one pair");
    assert_eq!(std::fs::read(dir.join("ci.key")).unwrap().len(), 65);
    assert!(stdout.contains(&public.key_id_hex()), "{stdout}");

    let stderr = failure(&keygen(&dir, &["--name", "ci"]));
    assert!(stderr.contains("already exists"), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(
        fn_sign::PublicKey::from_file(dir.join("ci.pub")).unwrap(),
        public,
        "a refused keygen leaves the old pair"
    );

    success(&keygen(&dir, &["--name", "ci", "--force"]));
    let replaced = fn_sign::PublicKey::from_file(dir.join("ci.pub")).unwrap();
    assert_ne!(replaced, public);
    assert_eq!(mode(&dir.join("ci.key")), 0o600);
}

#[test]
fn sign_then_verify_round_trip_on_a_built_component() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let signed = signed_copy(tmp.path(), "app.wasm");
    let bytes = std::fs::read(&signed).unwrap();
    assert!(fn_sign::is_signed(&bytes));
    assert_eq!(
        fn_sign::strip_signature(&bytes).unwrap(),
        std::fs::read(&f.unsigned).unwrap(),
        "signing only adds the signature section"
    );
    let features = wasmparser::WasmFeatures::default() | wasmparser::WasmFeatures::COMPONENT_MODEL;
    wasmparser::Validator::new_with_features(features)
        .validate_all(&bytes)
        .expect("still a valid component");

    let stdout = success(&verify(&signed, &[&f.public]));
    assert!(stdout.contains(&key_id(&f.public)), "{stdout}");

    // In place, when no -o is given.
    let in_place = tmp.path().join("in-place.wasm");
    std::fs::copy(&f.unsigned, &in_place).unwrap();
    let stdout = success(&run(&[
        "sign".as_ref(),
        &in_place,
        "--key".as_ref(),
        &f.secret,
    ]));
    assert!(stdout.contains(&key_id(&f.public)), "{stdout}");
    success(&verify(&in_place, &[&f.public]));
}

#[test]
fn verify_refuses_another_key_an_unsigned_and_a_tampered_file() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let signed = signed_copy(tmp.path(), "app.wasm");
    let other = tmp.path().join("other");
    success(&keygen(&other, &["--name", "other"]));
    let other_pub = other.join("other.pub");

    let stderr = failure(&verify(&signed, &[&other_pub]));
    assert!(
        stderr.contains("not by any of the 1 trusted key(s)"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&key_id(&f.public)),
        "names the signer: {stderr}"
    );
    // Any one trusted key is enough.
    success(&verify(&signed, &[&other_pub, &f.public]));

    let stderr = failure(&verify(&f.unsigned, &[&f.public]));
    assert!(stderr.contains("is not signed"), "{stderr}");

    let mut bytes = std::fs::read(&signed).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    let tampered = tmp.path().join("tampered.wasm");
    std::fs::write(&tampered, &bytes).unwrap();
    let stderr = failure(&verify(&tampered, &[&f.public]));
    assert!(stderr.contains("modified after signing"), "{stderr}");
    assert!(
        stderr.contains("tampered.wasm failed verification"),
        "{stderr}"
    );

    let stderr = failure(&verify(&signed, &[&f.secret]));
    assert!(stderr.contains("this is a secret key file"), "{stderr}");
}

#[test]
fn build_sign_writes_a_verifiable_artifact_and_checks_the_key_first() {
    let f = fixture();
    let missing = f.project.join("no-such.key");
    let stderr = failure(&cargo_fn(
        &f.project,
        &["build", "--release", "--sign", missing.to_str().unwrap()],
    ));
    assert!(stderr.contains("cargo fn keygen"), "{stderr}");

    let stdout = success(&cargo_fn(
        &f.project,
        &["build", "--release", "--sign", f.secret.to_str().unwrap()],
    ));
    assert!(
        stdout.contains(&format!("signed by key id {}", key_id(&f.public))),
        "{stdout}"
    );
    let json = build_json(&f.project, &["--sign", f.secret.to_str().unwrap()]);
    assert_eq!(json["signer_key_id"], key_id(&f.public).as_str());
    let artifact = artifact(&json);
    let bytes = std::fs::read(&artifact).unwrap();
    assert_eq!(json["final_size"], bytes.len() as u64);
    let verified = fn_sign::verify(&bytes, &[fn_sign::PublicKey::from_file(&f.public).unwrap()])
        .expect("build --sign output verifies");
    assert_eq!(
        fn_sign::strip_signature(&bytes).unwrap(),
        std::fs::read(&f.unsigned).unwrap(),
        "the signed artifact is the unsigned build plus a signature"
    );
    assert_eq!(verified.signer.key_id_hex(), key_id(&f.public));
    success(&verify(&artifact, &[&f.public]));
}

/// Crash safety: `cargo fn sign` killed (SIGKILL) at a spread of moments,
/// from before it reads the file to after it wrote it, leaves the artifact
/// either as it was or completely signed, never torn.
#[test]
#[cfg(unix)]
fn a_sign_killed_at_any_moment_leaves_the_old_file_or_the_signed_one() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let unsigned = std::fs::read(&f.unsigned).unwrap();
    let public = fn_sign::PublicKey::from_file(&f.public).unwrap();
    let (mut old, mut new) = (0, 0);
    for delay_ms in [
        0u64, 1, 2, 3, 4, 6, 8, 10, 13, 16, 20, 25, 30, 40, 60, 100, 200, 400,
    ] {
        let target = tmp.path().join(format!("killed-{delay_ms}.wasm"));
        std::fs::write(&target, &unsigned).unwrap();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-fn"));
        cmd.args(["fn", "sign"])
            .arg(&target)
            .arg("--key")
            .arg(&f.secret);
        if killed_leaves_old_or_signed(cmd, delay_ms, &target, &unsigned, &unsigned, public) {
            old += 1;
        } else {
            new += 1;
        }
    }
    // How many kills landed before the rename and how many after (on a
    // loaded machine the later ones may land before too).
    eprintln!("old file {old} times, signed file {new} times");
}

/// Crash safety of `cargo fn build --sign`: killed at a spread of moments
/// through cargo, the pipeline and the write, it leaves the old artifact or
/// the new signed one, never a torn file and never the new artifact
/// unsigned (it is signed before its one write).
#[test]
#[cfg(unix)]
fn a_build_sign_killed_at_any_moment_leaves_the_old_artifact_or_the_signed_one() {
    let f = fixture();
    let (_tmp, project) = scaffold("killed-build", "http");
    let artifact = artifact(&build_json(&project, &[]));
    let unsigned = std::fs::read(&artifact).unwrap();
    let public = fn_sign::PublicKey::from_file(&f.public).unwrap();
    let old_bytes = b"the artifact of an earlier build".to_vec();
    let (mut old, mut new) = (0, 0);
    for delay_ms in (0u64..=600).step_by(30).chain([1500]) {
        std::fs::write(&artifact, &old_bytes).unwrap();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-fn"));
        cmd.args(["fn", "build", "--release", "--quiet", "--sign"])
            .arg(&f.secret)
            .current_dir(&project);
        offline(&mut cmd);
        if killed_leaves_old_or_signed(cmd, delay_ms, &artifact, &old_bytes, &unsigned, public) {
            old += 1;
        } else {
            new += 1;
        }
    }
    eprintln!("old artifact {old} times, signed artifact {new} times");
}
