//! Every flow of `mfa.rs` again, on what wasmCloud 1.x runs: the function
//! composed with the wasmCloud 1.x adapter (as `cargo fn deploy --provider
//! wasmcloud` composes and pushes it), whose config import is wasmCloud
//! 1.x's version (`wasi:config/store@0.2.0-draft`) and whose key-value
//! imports are the function's own, served by the same runtime over the same
//! stores and config.

const HOST: Option<&str> = Some("wasmcloud");

#[path = "mfa.rs"]
mod flows;

/// The composed artifact imports config only at wasmCloud 1.x's version,
/// keeps the function's key-value imports, embeds the built function byte
/// for byte, and the portability report says wasmCloud 1.x runs it.
#[test]
fn the_wasmcloud_artifact_imports_its_config_version_and_embeds_the_function() {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let built = std::fs::read(fn_host_test::build_package(manifest).unwrap()).unwrap();
    let composed =
        std::fs::read(fn_host_test::build_package_for(manifest, "wasmcloud").unwrap()).unwrap();
    let report = fn_pipeline::report::inspect(&composed).unwrap();
    let config: Vec<&str> = report
        .imports
        .iter()
        .map(|i| i.name.as_str())
        .filter(|n| n.starts_with("wasi:config"))
        .collect();
    assert_eq!(config, ["wasi:config/store@0.2.0-draft"]);
    assert!(
        report
            .imports
            .iter()
            .any(|i| i.name == "wasi:keyvalue/store@0.2.0-draft"),
        "{:?}",
        report.imports
    );
    let wasmcloud = report.hosts.iter().find(|h| h.id == "wasmcloud").unwrap();
    assert!(wasmcloud.runs, "{:?}", wasmcloud.reasons);
    let nested = fn_pipeline::compose::nested_components(&composed).unwrap();
    let inner = fn_pipeline::compose::Nested {
        digest: fn_pipeline::compose::digest(&built),
        size: built.len(),
    };
    assert!(nested.contains(&inner), "{nested:?}");
}
