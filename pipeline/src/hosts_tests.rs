use super::*;
use crate::contract::ImportClass;

fn import(name: &str, needs: Option<&str>) -> Import {
    Import {
        name: name.into(),
        class: crate::contract::classify(name),
        needs: needs.map(String::from),
        needs_because: None,
        items: Vec::new(),
        aliases: Vec::new(),
        needs_unaliased: None,
    }
}

fn verdict(id: &str, imports: &[Import]) -> Verdict {
    evaluate(find(id).expect("known host"), imports)
}

#[test]
fn every_host_has_a_unique_id_and_a_source() {
    let mut ids = ids();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), HOSTS.len());
    assert!(HOSTS.iter().all(|h| !h.source.is_empty()));
    assert!(find("WASMTIME").is_some(), "ids are case-insensitive");
    assert!(find("lambda").is_none());
}

#[test]
fn a_plain_proxy_function_runs_on_semver_hosts() {
    let imports = [
        import("wasi:http/types@0.2.12", Some("0.2.0")),
        import("wasi:io/streams@0.2.12", Some("0.2.0")),
    ];
    for id in [
        "cargo-fn",
        "wasmtime",
        "spin",
        "wasmcloud",
        "jco",
        "cloudflare",
        "netlify",
    ] {
        let v = verdict(id, &imports);
        assert!(v.runs, "{id}: {:?}", v.reasons);
    }
    // Exact-version hosts need the names at their version.
    let v = verdict("nginx-unit", &imports);
    assert!(!v.runs);
    assert!(
        v.reasons[0].contains("exact version (0.2.0)"),
        "{:?}",
        v.reasons
    );
    let v = verdict(
        "nginx-unit",
        &[import("wasi:http/types@0.2.0", Some("0.2.0"))],
    );
    assert!(v.runs, "{:?}", v.reasons);
}

#[test]
fn newer_items_rule_out_older_hosts() {
    let imports = [import("wasi:cli/exit@0.2.12", Some("0.2.12"))];
    let v = verdict("spin", &imports);
    assert!(!v.runs);
    assert!(
        v.reasons[0].contains("added in WASI 0.2.12") && v.reasons[0].contains("up to 0.2.6"),
        "{:?}",
        v.reasons
    );
}

#[test]
fn proxy_only_hosts_refuse_other_wasi() {
    let imports = [import("wasi:cli/environment@0.2.0", Some("0.2.0"))];
    assert_eq!(imports[0].class, ImportClass::Stubbable);
    let v = verdict("wasmtime", &imports);
    assert!(!v.runs);
    assert!(
        v.reasons[0].contains("only wasi:http/proxy"),
        "{:?}",
        v.reasons
    );
    assert!(verdict("spin", &imports).runs, "Spin links all of WASI");
}

#[test]
fn capability_versions_must_match_exactly() {
    let imports = [
        import("wasi:keyvalue/store@0.2.0-draft", None),
        import("wasi:config/store@0.2.0-rc.1", None),
    ];
    let v = verdict("wasmtime", &imports);
    assert!(v.runs, "{:?}", v.reasons);
    assert_eq!(v.notes, ["run with -S keyvalue", "run with -S config"]);

    // Spin has other versions; its adapter, composed by deploy, bridges them.
    let v = verdict("spin", &imports);
    assert!(v.runs, "{:?}", v.reasons);
    assert!(v.notes[0].contains("Spin adapter"), "{:?}", v.notes);
    let spin = find("spin").unwrap();
    assert_eq!(adapter_for(spin, &imports).map(|a| a.name), Some("spin"));
    // ... but only the versions it exports: draft2 is Spin's own, and an
    // unknown pre-release is refused, naming the versions Spin has.
    assert!(adapter_for(spin, &[import("wasi:keyvalue/store@0.2.0-draft2", None)]).is_none());
    assert!(verdict("spin", &[import("wasi:keyvalue/store@0.2.0-draft2", None)]).runs);
    let v = verdict("spin", &[import("wasi:keyvalue/store@0.2.0-draft3", None)]);
    assert!(!v.runs);
    assert!(
        v.reasons[0].contains("only at 0.2.0-draft2"),
        "{:?}",
        v.reasons
    );

    // wasmCloud 1.x has config at 0.2.0-draft, not rc.1: its adapter bridges
    // config, and key-value links as it is.
    let v = verdict("wasmcloud", &imports);
    assert!(v.runs, "{:?}", v.reasons);
    assert!(
        v.notes.iter().any(|n| n.contains("wasmCloud 1.x adapter")),
        "{:?}",
        v.notes
    );
    let wasmcloud = find("wasmcloud").unwrap();
    assert_eq!(
        adapter_for(wasmcloud, &imports).map(|a| a.name),
        Some("wasmcloud")
    );
    assert!(
        adapter_for(wasmcloud, &imports[..1]).is_none(),
        "key-value only"
    );

    // NGINX Unit has neither: the files adapter keeps them in its
    // filesystem and environment, for key-value alone too.
    let v = verdict("nginx-unit", &imports);
    assert!(v.runs, "{:?}", v.reasons);
    assert!(
        v.notes.iter().any(|n| n.contains("files adapter")),
        "{:?}",
        v.notes
    );
    let unit = find("nginx-unit").unwrap();
    assert_eq!(
        adapter_for(unit, &imports[..1]).map(|a| a.name),
        Some("files")
    );

    let v = verdict("wasmcloud2", &imports);
    assert!(v.runs, "wasmCloud 2 has config at rc.1: {:?}", v.reasons);

    // jco's shim has neither either: the same files adapter, composed by
    // `deploy --provider jco`.
    let v = verdict("jco", &imports);
    assert!(v.runs, "{:?}", v.reasons);
    assert!(
        v.notes.iter().any(|n| n.contains("--provider jco")),
        "{:?}",
        v.notes
    );
    // A capability version the adapter does not export is still refused,
    // naming it.
    let v = verdict("jco", &[import("wasi:keyvalue/store@0.2.0-draft2", None)]);
    assert!(!v.runs);
    assert!(
        v.reasons
            .iter()
            .all(|r| r.starts_with("it does not provide")),
        "{:?}",
        v.reasons
    );
}

#[test]
fn javascript_hosts_run_key_value_config_and_outbound_http() {
    let imports = [
        import("wasi:http/outgoing-handler@0.2.12", Some("0.2.0")),
        import("wasi:keyvalue/store@0.2.0-draft", None),
        import("wasi:keyvalue/atomics@0.2.0-draft", None),
        import("wasi:config/store@0.2.0-rc.1", None),
    ];
    // Under JSPI (workerd) and without it (Netlify's Node.js, where the
    // bundle's worker thread does the waiting), each capability with what
    // the deployment provides it by.
    for host in ["cloudflare", "netlify"] {
        let v = verdict(host, &imports);
        assert!(v.runs, "{host}: {:?}", v.reasons);
        assert_eq!(v.notes.len(), 3, "{host}: {:?}", v.notes);
    }
    // Key-value at another version is still refused.
    let v = verdict(
        "netlify",
        &[import("wasi:keyvalue/store@0.2.0-draft2", None)],
    );
    assert!(!v.runs, "{:?}", v.notes);
}

/// Every `package ns:name@version;` line in the `.wit` files under `dir`.
fn wit_packages(dir: &std::path::Path) -> Vec<(String, Version)> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "wit") {
                let text = std::fs::read_to_string(&path).unwrap();
                for line in text.lines() {
                    let Some(rest) = line.trim().strip_prefix("package ") else {
                        continue;
                    };
                    let rest = rest.trim_end_matches(';').trim();
                    if let Some((name, version)) = rest.split_once('@') {
                        found.push((name.to_owned(), Version::parse(version).unwrap()));
                    }
                }
            }
        }
    }
    found
}

/// The table's facts about our own runtime and `wasmtime serve` are read from
/// the WIT that the wasmtime 48 crates in `Cargo.lock` vendor, and the SDK's own
/// `wit/deps` must ask only for what that runtime provides: bumping either side
/// without the table fails here.
#[test]
fn the_table_agrees_with_the_vendored_wit() {
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    let metadata = cargo_metadata::MetadataCommand::new()
        .manifest_path(workspace.join("Cargo.toml"))
        .exec()
        .expect("cargo metadata");
    let crate_wit = |name: &str| {
        let package = metadata
            .packages
            .iter()
            .find(|p| p.name.as_str() == name)
            .unwrap_or_else(|| panic!("{name} is not in Cargo.lock"));
        wit_packages(package.manifest_path.parent().unwrap().as_std_path())
    };
    let capability = |host: &Host, interface: &str| -> Vec<&str> {
        host.capabilities
            .iter()
            .find(|c| c.interface == interface)
            .map(|c| c.versions.to_vec())
            .unwrap_or_default()
    };

    for id in ["cargo-fn", "wasmtime"] {
        let host = find(id).unwrap();
        // wasi_max: the newest 0.2.x wasi:http that wasmtime-wasi-http vendors.
        let newest = crate_wit("wasmtime-wasi-http")
            .into_iter()
            .filter(|(n, v)| n == "wasi:http" && v.major == 0 && v.minor == 2)
            .map(|(_, v)| (v.major, v.minor, v.patch))
            .max()
            .unwrap();
        assert_eq!(host.wasi_max, newest, "{id}: wasi_max");
        for (krate, package, interfaces) in [
            (
                "wasmtime-wasi-keyvalue",
                "wasi:keyvalue",
                &["wasi:keyvalue/store", "wasi:keyvalue/atomics"][..],
            ),
            (
                "wasmtime-wasi-config",
                "wasi:config",
                &["wasi:config/store"],
            ),
        ] {
            let vendored: Vec<String> = crate_wit(krate)
                .into_iter()
                .filter(|(n, _)| n == package)
                .map(|(_, v)| v.to_string())
                .collect();
            assert!(!vendored.is_empty(), "{krate} vendors no {package}");
            for interface in interfaces {
                let table = capability(host, interface);
                for v in &vendored {
                    assert!(
                        table.contains(&v.as_str()),
                        "{id}: {krate} vendors {package}@{v}, the table says {interface} {table:?}"
                    );
                }
            }
        }
    }

    // The SDK's WIT (the imports every function gets) against our own runtime.
    let ours = find("cargo-fn").unwrap();
    let sdk = wit_packages(&workspace.join("wit/deps"));
    assert!(!sdk.is_empty());
    for (name, version) in sdk {
        if version.pre.is_empty() {
            assert!(
                (version.major, version.minor, version.patch) <= ours.wasi_max,
                "the SDK's wit/deps has {name}@{version}, newer than our runtime's WASI"
            );
        } else {
            let interfaces: Vec<_> = ours
                .capabilities
                .iter()
                .filter(|c| c.interface.starts_with(&format!("{name}/")))
                .collect();
            assert!(
                !interfaces.is_empty(),
                "the SDK's wit/deps has {name}@{version}; the table gives our runtime no such capability"
            );
            for c in interfaces {
                assert!(
                    c.versions.contains(&version.to_string().as_str()),
                    "the SDK's wit/deps has {name}@{version}; the table says {} {:?}",
                    c.interface,
                    c.versions
                );
            }
        }
    }
}
