use super::*;
use crate::contract::ImportClass;

fn import(name: &str, needs: Option<&str>) -> Import {
    Import {
        name: name.into(),
        class: crate::contract::classify(name),
        needs: needs.map(String::from),
        needs_because: None,
        items: Vec::new(),
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

    let v = verdict("spin", &imports);
    assert!(!v.runs);
    assert_eq!(v.reasons.len(), 2);
    assert!(
        v.reasons[0].contains("only at 0.2.0-draft2"),
        "{:?}",
        v.reasons
    );

    let v = verdict("wasmcloud", &imports);
    assert!(!v.runs, "wasmCloud has config at 0.2.0-draft, not rc.1");
    assert_eq!(v.reasons.len(), 1);

    let v = verdict("jco", &imports);
    assert!(
        v.reasons
            .iter()
            .all(|r| r.starts_with("it does not provide")),
        "{:?}",
        v.reasons
    );
}

#[test]
fn javascript_hosts_say_what_their_runtime_cannot_do() {
    let imports = [
        import("wasi:http/outgoing-handler@0.2.12", Some("0.2.0")),
        import("wasi:keyvalue/store@0.2.0-draft", None),
        import("wasi:keyvalue/atomics@0.2.0-draft", None),
        import("wasi:config/store@0.2.0-rc.1", None),
    ];
    let v = verdict("cloudflare", &imports);
    assert!(v.runs, "{:?}", v.reasons);
    assert_eq!(v.notes.len(), 3, "{:?}", v.notes);

    let v = verdict("netlify", &imports);
    assert!(!v.runs);
    assert_eq!(v.reasons.len(), 2, "{:?}", v.reasons);
    assert!(
        v.reasons[0].starts_with("wasi:http/outgoing-handler@0.2.12: ")
            && v.reasons[0].contains("JSPI"),
        "{:?}",
        v.reasons
    );
    assert!(
        v.reasons[1].contains("no atomic increment"),
        "{:?}",
        v.reasons
    );
    // Key-value (Netlify Blobs, from a worker thread) and configuration run
    // there.
    assert!(verdict("netlify", &[imports[1].clone(), imports[3].clone()]).runs);
}
