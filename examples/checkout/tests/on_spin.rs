//! Every flow of `checkout.rs` again, on what Spin runs: the function
//! composed with the Spin adapter (as `cargo fn deploy --provider spin`
//! composes it), whose key-value and config imports are Spin's versions
//! (`wasi:keyvalue@0.2.0-draft2`, `wasi:config@0.2.0-draft-2024-09-27`),
//! served by the same runtime over the same stores and config.

const HOST: Option<&str> = Some("spin");

#[path = "checkout.rs"]
mod flows;

/// The composed artifact imports exactly Spin's versions, embeds the built
/// function byte for byte, and the portability report says Spin runs it.
#[test]
fn the_spin_artifact_imports_spin_versions_and_embeds_the_function() {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let built = std::fs::read(fn_host_test::build_package(manifest).unwrap()).unwrap();
    let composed =
        std::fs::read(fn_host_test::build_package_for(manifest, "spin").unwrap()).unwrap();
    let report = fn_pipeline::report::inspect(&composed).unwrap();
    let capabilities: Vec<&str> = report
        .imports
        .iter()
        .map(|i| i.name.as_str())
        .filter(|n| n.starts_with("wasi:keyvalue") || n.starts_with("wasi:config"))
        .collect();
    assert!(!capabilities.is_empty());
    for name in &capabilities {
        assert!(
            name.ends_with("@0.2.0-draft2") || name.ends_with("@0.2.0-draft-2024-09-27"),
            "{name} is not one of Spin's versions (all: {capabilities:?})"
        );
    }
    let spin = report.hosts.iter().find(|h| h.id == "spin").unwrap();
    assert!(spin.runs, "{:?}", spin.reasons);
    let digest = fn_pipeline::compose::nested_components(&built).unwrap();
    assert!(digest.is_empty(), "cargo's component nests no component");
    let nested = fn_pipeline::compose::nested_components(&composed).unwrap();
    let inner = fn_pipeline::compose::Nested {
        digest: fn_pipeline::compose::digest(&built),
        size: built.len(),
    };
    assert!(nested.contains(&inner), "{nested:?}");
}
