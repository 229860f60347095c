//! `cargo fn new` then `cargo fn build` for every template, checked with
//! wasmparser and wit-component, then run on wasmtime through fn-host-test.

mod common;

use common::*;
use wit_parser::Resolve;

/// The `wasi:http/proxy` world, parsed from the SDK's WIT independently of fn-pipeline.
fn proxy_world() -> (Resolve, wit_parser::WorldId) {
    let mut resolve = Resolve::default();
    let (pkg, _) = resolve
        .push_dir(workspace().join("wit"))
        .expect("the fn-wit package parses");
    let world = resolve
        .select_world(&[pkg], Some("wasi:http/proxy"))
        .expect("proxy world");
    (resolve, world)
}

/// Checks a built artifact: valid component, exports the handler, imports
/// only `wasi:http/proxy` (the `wasm-tools component targets` check, in process).
fn check_artifact(bytes: &[u8]) {
    let features = wasmparser::WasmFeatures::default() | wasmparser::WasmFeatures::COMPONENT_MODEL;
    wasmparser::Validator::new_with_features(features)
        .validate_all(bytes)
        .expect("valid component");

    let mut imports = Vec::new();
    let mut exports = Vec::new();
    let mut depth = 0;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.unwrap() {
            wasmparser::Payload::ModuleSection { .. }
            | wasmparser::Payload::ComponentSection { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth -= 1,
            wasmparser::Payload::ComponentImportSection(s) if depth == 0 => {
                imports.extend(s.into_iter().map(|i| i.unwrap().name.name.to_string()));
            }
            wasmparser::Payload::ComponentExportSection(s) if depth == 0 => {
                exports.extend(s.into_iter().map(|e| e.unwrap().name.name.to_string()));
            }
            wasmparser::Payload::CustomSection(c) => {
                panic!("custom section `{}` left in the artifact", c.name())
            }
            _ => {}
        }
    }
    assert!(
        exports
            .iter()
            .any(|e| e.starts_with("wasi:http/incoming-handler@0.2.")),
        "{exports:?}"
    );
    assert!(
        !imports
            .iter()
            .any(|i| i.starts_with("wasi:cli/environment") || i.starts_with("wasi:cli/exit")),
        "{imports:?}"
    );

    let (resolve, world) = proxy_world();
    wit_component::targets(&resolve, world, bytes, true)
        .unwrap_or_else(|e| panic!("imports outside wasi:http/proxy: {e:#}\nimports: {imports:?}"));
}

#[test]
fn http_template_builds_tests_and_runs() {
    let (_tmp, project) = scaffold("http-smoke", "http");
    for file in ["Cargo.toml", "src/lib.rs", ".gitignore", "README.md"] {
        assert!(project.join(file).is_file(), "{file} missing");
    }

    // `cargo test` works out of the box, natively.
    let mut test = std::process::Command::new(env!("CARGO"));
    test.arg("test").current_dir(&project);
    offline(&mut test);
    let stdout = success(&test.output().unwrap());
    assert!(stdout.contains("test result: ok. 2 passed"), "{stdout}");

    let json = build_json(&project, &[]);
    let path = artifact(&json);
    assert_eq!(path, shared_target().join("fn/http-smoke.wasm"));
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes.len() as u64, json["final_size"].as_u64().unwrap());
    assert!(
        json["final_size"].as_u64() < json["raw_size"].as_u64(),
        "{json}"
    );
    check_artifact(&bytes);
    assert_eq!(json["report"]["within_contract"], true);

    // The very artifact answers requests on wasmtime.
    let function =
        fn_host_test::TestFunction::load(&path).expect("fn-host-test loads the artifact");
    let response = function.get("/?name=Ferris");
    assert_eq!(response.status(), 200, "{}", response.describe());
    assert_eq!(response.text(), "Hello, Ferris!");

    // `cargo fn invoke` with no file builds the package in the current
    // folder (a no-op for cargo now) and calls it.
    let stdout = success(&cargo_fn(&project, &["invoke", "--path", "/?name=pkg"]));
    assert!(stdout.contains("200"), "{stdout}");
    assert!(stdout.contains("Hello, pkg!"), "{stdout}");
}

#[test]
fn event_template_builds_tests_and_runs() {
    let (_tmp, project) = scaffold("event-smoke", "event");
    let mut test = std::process::Command::new(env!("CARGO"));
    test.arg("test").current_dir(&project);
    offline(&mut test);
    let stdout = success(&test.output().unwrap());
    assert!(stdout.contains("test result: ok. 2 passed"), "{stdout}");

    let json = build_json(&project, &[]);
    let bytes = std::fs::read(artifact(&json)).unwrap();
    check_artifact(&bytes);

    let function =
        fn_host_test::TestFunction::load(artifact(&json)).expect("fn-host-test loads the artifact");
    let event = |total: u64, ty: &str| {
        fnsdk_free_event(
            ty,
            &format!(r#"{{"order_id":"o-7","total_cents":{total}}}"#),
        )
    };
    let accepted = function.call(event(1250, "com.example.order.placed"));
    assert_eq!(accepted.status(), 204, "{}", accepted.describe());
    let empty = function.call(event(0, "com.example.order.placed"));
    assert_eq!(empty.status(), 400, "{}", empty.describe());
    let other = function.call(event(1250, "com.example.order.cancelled"));
    assert_eq!(other.status(), 400, "{}", other.describe());
}

/// A binary-mode CloudEvent request, written by hand.
fn fnsdk_free_event(ty: &str, data: &str) -> http::Request<String> {
    http::Request::post("/")
        .header("ce-specversion", "1.0")
        .header("ce-id", "1")
        .header("ce-source", "/shop")
        .header("ce-type", ty)
        .header("content-type", "application/json")
        .body(data.to_string())
        .unwrap()
}

#[test]
fn builds_are_reproducible() {
    // The same source in two different directories, built one after the other.
    let (_a, first) = scaffold("repro-fn", "http");
    let (_b, second) = scaffold("repro-fn", "http");
    let one = std::fs::read(artifact(&build_json(&first, &[]))).unwrap();
    let two = std::fs::read(artifact(&build_json(&second, &[]))).unwrap();
    assert!(
        one == two,
        "two builds differ ({} vs {} bytes)",
        one.len(),
        two.len()
    );
    // And no machine paths leak into it.
    let text = String::from_utf8_lossy(&one);
    assert!(
        !text.contains(first.to_str().unwrap()) && !text.contains("/root/"),
        "a machine path leaked"
    );
}

#[test]
fn inspect_reports_json_and_text() {
    let (_tmp, project) = scaffold("inspect-fn", "http");
    let path = artifact(&build_json(&project, &[]));
    let json: serde_json::Value = serde_json::from_str(&success(&cargo_fn(
        &project,
        &["inspect", path.to_str().unwrap(), "--json"],
    )))
    .unwrap();
    assert_eq!(json["within_contract"], true);
    let imports = json["imports"].as_array().unwrap();
    assert!(imports.iter().all(|i| i["class"] == "proxy"), "{imports:?}");
    // Each import is named at the release it needs (the build lowers
    // them): 0.2.0 for all, wasi:http/types too once its `field-name`
    // (0.2.1, a name for `string`) is replaced by the string it stands for.
    for import in imports {
        let name = import["name"].as_str().unwrap();
        let needs = import["needs"].as_str().unwrap();
        assert!(name.ends_with("@0.2.0"), "{import}");
        assert_eq!(needs, "0.2.0", "{import}");
    }
    let hosts = json["hosts"].as_array().unwrap();
    // Every host in the table runs a hello world, NGINX Unit (exact 0.2.0
    // linking) included.
    assert_eq!(hosts.len(), fn_pipeline::hosts::HOSTS.len(), "{hosts:?}");
    for host in hosts {
        assert_eq!(host["runs"], true, "{host}");
    }

    let text = success(&cargo_fn(&project, &["inspect", path.to_str().unwrap()]));
    assert!(text.contains("portable contract: yes"), "{text}");
    assert!(text.contains("wasi:http/incoming-handler@0.2."), "{text}");
}

/// Copies `from` into `to`, leaving out build output and version control.
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Nothing of where this checkout lives is baked into `cargo fn new`: with
/// the SDK taken from a copy of the checkout somewhere else, a new project
/// builds and answers.
#[test]
fn a_project_builds_from_a_moved_copy_of_the_checkout() {
    let moved = tempfile::tempdir().unwrap();
    let checkout = moved.path().join("cargo-fn-elsewhere");
    copy_tree(&workspace(), &checkout);

    let projects = tempfile::tempdir().unwrap();
    let sdk = checkout.join("sdk");
    success(&cargo_fn(
        projects.path(),
        &["new", "moved", "--sdk-path", sdk.to_str().unwrap()],
    ));
    let project = projects.path().join("moved");
    let manifest = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
    let root = workspace().canonicalize().unwrap();
    assert!(
        !manifest.contains(root.to_str().unwrap()),
        "the original checkout leaked into {manifest}"
    );
    assert!(
        manifest.contains(checkout.canonicalize().unwrap().to_str().unwrap()),
        "{manifest}"
    );

    let json = build_json(&project, &[]);
    let function = fn_host_test::TestFunction::load(artifact(&json)).unwrap();
    let response = function.get("/?name=moved");
    assert_eq!(response.status(), 200, "{}", response.describe());
    assert_eq!(response.text(), "Hello, moved!");
}
