//! The adapter on its own, on a host that implements exactly Spin's
//! versions (`wasi:keyvalue@0.2.0-draft2`, `wasi:config@0.2.0-draft-2024-09-27`,
//! bindings generated from the same WIT): every export of the function's
//! versions is called and must reach the host's store and config, with the
//! two conversions (string cursors, signed counters) and the errors.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use wasmtime::component::{Component, HasSelf, Linker, Resource, ResourceAny, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

include!(concat!(env!("OUT_DIR"), "/host_bindings.rs"));

use exports::wasi::keyvalue0_2_0_draft::store::{Error as OurError, KeyResponse};
use wasi::config0_2_0_draft_2024_09_27::store as spin_config;
use wasi::keyvalue0_2_0_draft2::{atomics as spin_atomics, store as spin_store};

/// A bucket handle on the Spin side: the store's name.
pub struct SpinBucket(String);

/// Spin's side: stores by name, config values, and what was asked.
#[derive(Default)]
struct Spin {
    stores: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
    config: BTreeMap<String, String>,
    cursors_seen: Vec<Option<String>>,
    table: ResourceTable,
    wasi: Option<WasiCtx>,
}

impl WasiView for Spin {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: self.wasi.as_mut().unwrap(),
            table: &mut self.table,
        }
    }
}

impl Spin {
    fn bucket(&mut self, b: &Resource<SpinBucket>) -> &mut BTreeMap<String, Vec<u8>> {
        let name = self.table.get(b).unwrap().0.clone();
        self.stores.get_mut(&name).unwrap()
    }
}

impl spin_store::Host for Spin {
    fn open(&mut self, identifier: String) -> Result<Resource<SpinBucket>, spin_store::Error> {
        if !self.stores.contains_key(&identifier) {
            return Err(spin_store::Error::NoSuchStore);
        }
        Ok(self.table.push(SpinBucket(identifier)).unwrap())
    }
}

/// Spin hands out keys two at a time; its cursor is the last key listed.
const PAGE: usize = 2;

impl spin_store::HostBucket for Spin {
    fn get(
        &mut self,
        b: Resource<SpinBucket>,
        key: String,
    ) -> Result<Option<Vec<u8>>, spin_store::Error> {
        Ok(self.bucket(&b).get(&key).cloned())
    }

    fn set(
        &mut self,
        b: Resource<SpinBucket>,
        key: String,
        value: Vec<u8>,
    ) -> Result<(), spin_store::Error> {
        if key == "forbidden" {
            return Err(spin_store::Error::AccessDenied);
        }
        self.bucket(&b).insert(key, value);
        Ok(())
    }

    fn delete(&mut self, b: Resource<SpinBucket>, key: String) -> Result<(), spin_store::Error> {
        self.bucket(&b).remove(&key);
        Ok(())
    }

    fn exists(&mut self, b: Resource<SpinBucket>, key: String) -> Result<bool, spin_store::Error> {
        Ok(self.bucket(&b).contains_key(&key))
    }

    fn list_keys(
        &mut self,
        b: Resource<SpinBucket>,
        cursor: Option<String>,
    ) -> Result<spin_store::KeyResponse, spin_store::Error> {
        self.cursors_seen.push(cursor.clone());
        let keys: Vec<String> = self
            .bucket(&b)
            .keys()
            .filter(|k| cursor.as_ref().is_none_or(|c| *k > c))
            .take(PAGE + 1)
            .cloned()
            .collect();
        let more = keys.len() > PAGE;
        let keys: Vec<String> = keys.into_iter().take(PAGE).collect();
        let cursor = more.then(|| keys.last().unwrap().clone());
        Ok(spin_store::KeyResponse { keys, cursor })
    }

    fn drop(&mut self, b: Resource<SpinBucket>) -> wasmtime::Result<()> {
        self.table.delete(b)?;
        Ok(())
    }
}

impl spin_atomics::Host for Spin {
    fn increment(
        &mut self,
        b: Resource<SpinBucket>,
        key: String,
        delta: i64,
    ) -> Result<i64, spin_store::Error> {
        let values = self.bucket(&b);
        let old = match values.get(&key) {
            None => 0,
            Some(text) => std::str::from_utf8(text)
                .ok()
                .and_then(|t| t.parse::<i64>().ok())
                .ok_or_else(|| spin_store::Error::Other("not a number".into()))?,
        };
        let new = old + delta;
        values.insert(key, new.to_string().into_bytes());
        Ok(new)
    }
}

impl spin_config::Host for Spin {
    fn get(&mut self, key: String) -> Result<Option<String>, spin_config::Error> {
        if key == "broken" {
            return Err(spin_config::Error::Upstream("vault is down".into()));
        }
        Ok(self.config.get(&key).cloned())
    }

    fn get_all(&mut self) -> Result<Vec<(String, String)>, spin_config::Error> {
        Ok(self.config.clone().into_iter().collect())
    }
}

/// The adapter component, built once the way `cargo fn deploy` builds it
/// (fn-pipeline's `adapter::build`), into the workspace's target directory.
fn adapter() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let workspace = manifest.join("../..").canonicalize().unwrap();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| workspace.join("target"));
        fn_pipeline::adapter::build(
            "spin",
            &fn_pipeline::adapter::AdapterOptions {
                target_dir: target,
                wit: fn_pipeline::adapter::WitSource::Path(
                    workspace.join("wit").display().to_string(),
                ),
                offline: false,
                quiet: true,
            },
        )
        .expect("building the Spin adapter")
    })
}

struct Running {
    store: Store<Spin>,
    adapter: SpinAdapter,
}

fn start(spin: Spin) -> Running {
    let engine = Engine::default();
    let component = Component::new(&engine, adapter()).unwrap();
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    SpinAdapter::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s).unwrap();
    let mut store = Store::new(
        &engine,
        Spin {
            wasi: Some(WasiCtx::builder().build()),
            ..spin
        },
    );
    let adapter = SpinAdapter::instantiate(&mut store, &component, &linker).unwrap();
    Running { store, adapter }
}

fn spin_with_store(name: &str, entries: &[(&str, &str)]) -> Spin {
    let mut spin = Spin::default();
    spin.stores.insert(
        name.into(),
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect(),
    );
    spin
}

impl Running {
    fn open(&mut self, name: &str) -> Result<ResourceAny, OurError> {
        self.adapter
            .wasi_keyvalue0_2_0_draft_store()
            .call_open(&mut self.store, name)
            .unwrap()
    }

    fn list(&mut self, bucket: ResourceAny, cursor: Option<u64>) -> Result<KeyResponse, OurError> {
        self.adapter
            .wasi_keyvalue0_2_0_draft_store()
            .bucket()
            .call_list_keys(&mut self.store, bucket, cursor)
            .unwrap()
    }

    fn increment(&mut self, bucket: ResourceAny, key: &str, delta: u64) -> Result<u64, OurError> {
        self.adapter
            .wasi_keyvalue0_2_0_draft_atomics()
            .call_increment(&mut self.store, bucket, key, delta)
            .unwrap()
    }
}

#[test]
fn the_store_passes_through() {
    let mut run = start(spin_with_store("default", &[("seed", "1")]));
    let b = run.open("default").unwrap();
    let store = run.adapter.wasi_keyvalue0_2_0_draft_store();
    let bucket = store.bucket();
    let s = &mut run.store;
    assert_eq!(
        bucket.call_get(&mut *s, b, "seed").unwrap(),
        Ok(Some(b"1".to_vec()))
    );
    bucket
        .call_set(&mut *s, b, "name", b"ada")
        .unwrap()
        .unwrap();
    assert!(bucket.call_exists(&mut *s, b, "name").unwrap().unwrap());
    bucket.call_delete(&mut *s, b, "seed").unwrap().unwrap();
    assert_eq!(bucket.call_get(&mut *s, b, "seed").unwrap(), Ok(None));
    assert!(matches!(
        bucket.call_set(&mut *s, b, "forbidden", b"x").unwrap(),
        Err(OurError::AccessDenied)
    ));
    assert_eq!(
        s.data().stores["default"].get("name").map(Vec::as_slice),
        Some(&b"ada"[..])
    );
    assert!(matches!(run.open("other"), Err(OurError::NoSuchStore)));
}

#[test]
fn string_cursors_become_numbers_and_back() {
    let entries: Vec<(String, String)> =
        (1..=5).map(|i| (format!("k{i}"), i.to_string())).collect();
    let refs: Vec<(&str, &str)> = entries
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut run = start(spin_with_store("default", &refs));
    let b = run.open("default").unwrap();
    let mut keys = Vec::new();
    let mut cursor = None;
    loop {
        let page = run.list(b, cursor).unwrap();
        keys.extend(page.keys);
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(keys, ["k1", "k2", "k3", "k4", "k5"]);
    // Spin saw its own strings, the function only numbers.
    assert_eq!(
        run.store.data().cursors_seen,
        [None, Some("k2".to_owned()), Some("k4".to_owned())]
    );
    let err = run.list(b, Some(99)).unwrap_err();
    assert!(
        matches!(&err, OurError::Other(m) if m.contains("cursor 99")),
        "{err:?}"
    );
}

#[test]
fn unsigned_increments_map_onto_signed_ones() {
    let mut run = start(spin_with_store("default", &[("below", "-3")]));
    let b = run.open("default").unwrap();
    assert_eq!(run.increment(b, "hits", 5), Ok(5));
    assert_eq!(run.increment(b, "hits", 2), Ok(7));
    assert_eq!(run.store.data().stores["default"]["hits"], b"7");
    let err = run.increment(b, "hits", u64::MAX).unwrap_err();
    assert!(
        matches!(&err, OurError::Other(m) if m.contains("signed")),
        "{err:?}"
    );
    assert_eq!(
        run.store.data().stores["default"]["hits"],
        b"7",
        "untouched"
    );
    let err = run.increment(b, "below", 1).unwrap_err();
    assert!(
        matches!(&err, OurError::Other(m) if m.contains("-2") && m.contains("below zero")),
        "{err:?}"
    );
}

#[test]
fn config_passes_through_with_its_errors() {
    use exports::wasi::config0_2_0_rc_1::store::Error;
    let mut spin = Spin::default();
    spin.config.insert("region".into(), "eu".into());
    let mut run = start(spin);
    let config = run.adapter.wasi_config0_2_0_rc_1_store();
    let s = &mut run.store;
    assert_eq!(
        config.call_get(&mut *s, "region").unwrap(),
        Ok(Some("eu".into()))
    );
    assert_eq!(config.call_get(&mut *s, "missing").unwrap(), Ok(None));
    assert_eq!(
        config.call_get(&mut *s, "broken").unwrap(),
        Err(Error::Upstream("vault is down".into()))
    );
    assert_eq!(
        config.call_get_all(&mut *s).unwrap(),
        Ok(vec![("region".into(), "eu".into())])
    );
}
