//! The files adapter on its own, on a host that links all of WASI 0.2 with
//! a preopened directory and an environment (as NGINX Unit does with
//! `access.filesystem` and the app's environment): every export must reach
//! the files under `FN_KV_DIR` and the `FN_CONFIG_` variables, and
//! concurrent increments from several instances must lose nothing.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use wasmtime::component::{Component, Linker, ResourceAny, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};

include!(concat!(env!("OUT_DIR"), "/host_bindings.rs"));

use exports::wasi::keyvalue0_2_0_draft::store::{Error, KeyResponse};

/// Where the host preopens the stores' directory for the guest.
const GUEST_DIR: &str = "/kv";

struct Host {
    table: ResourceTable,
    wasi: WasiCtx,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The adapter component, built once the way fn-pipeline builds adapters
/// (`adapter::build`), into the workspace's target directory.
fn adapter() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let workspace = manifest.join("../..").canonicalize().unwrap();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace.join("target"));
        fn_pipeline::adapter::build(
            "files",
            &fn_pipeline::adapter::AdapterOptions {
                target_dir: target,
                wit: fn_pipeline::adapter::WitSource::Path(
                    workspace.join("wit").display().to_string(),
                ),
                offline: false,
                quiet: true,
            },
        )
        .expect("building the files adapter")
    })
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(Engine::default)
}

struct Running {
    store: Store<Host>,
    adapter: FilesAdapter,
}

/// An instance whose `FN_KV_DIR` is `dir` (preopened), with `env` too.
fn start(dir: Option<&Path>, env: &[(&str, &str)]) -> Running {
    let component = Component::new(engine(), adapter()).unwrap();
    let mut linker = Linker::new(engine());
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    let mut wasi = WasiCtx::builder();
    if let Some(dir) = dir {
        wasi.preopened_dir(dir, GUEST_DIR, FsPerms::ReadWrite)
            .unwrap();
        wasi.env("FN_KV_DIR", GUEST_DIR);
    }
    for (name, value) in env {
        wasi.env(name, value);
    }
    let mut store = Store::new(
        engine(),
        Host {
            table: ResourceTable::new(),
            wasi: wasi.build(),
        },
    );
    let adapter = FilesAdapter::instantiate(&mut store, &component, &linker).unwrap();
    Running { store, adapter }
}

/// A directory with the store `default`.
fn stores() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("default")).unwrap();
    dir
}

impl Running {
    fn open(&mut self, name: &str) -> Result<ResourceAny, Error> {
        self.adapter
            .wasi_keyvalue0_2_0_draft_store()
            .call_open(&mut self.store, name)
            .unwrap()
    }

    fn get(&mut self, bucket: ResourceAny, key: &str) -> Result<Option<Vec<u8>>, Error> {
        self.adapter
            .wasi_keyvalue0_2_0_draft_store()
            .bucket()
            .call_get(&mut self.store, bucket, key)
            .unwrap()
    }

    fn set(&mut self, bucket: ResourceAny, key: &str, value: &[u8]) -> Result<(), Error> {
        self.adapter
            .wasi_keyvalue0_2_0_draft_store()
            .bucket()
            .call_set(&mut self.store, bucket, key, value)
            .unwrap()
    }

    fn list(&mut self, bucket: ResourceAny, cursor: Option<u64>) -> Result<KeyResponse, Error> {
        self.adapter
            .wasi_keyvalue0_2_0_draft_store()
            .bucket()
            .call_list_keys(&mut self.store, bucket, cursor)
            .unwrap()
    }

    fn increment(&mut self, bucket: ResourceAny, key: &str, delta: u64) -> Result<u64, Error> {
        self.adapter
            .wasi_keyvalue0_2_0_draft_atomics()
            .call_increment(&mut self.store, bucket, key, delta)
            .unwrap()
    }
}

#[test]
fn a_store_is_a_folder_and_a_key_a_file() {
    let dir = stores();
    let mut run = start(Some(dir.path()), &[]);
    let b = run.open("default").unwrap();
    assert_eq!(run.get(b, "user:42"), Ok(None));
    run.set(b, "user:42", b"ada").unwrap();
    run.set(b, ".hidden/a", b"x").unwrap();
    assert_eq!(run.get(b, "user:42"), Ok(Some(b"ada".to_vec())));
    // On disk: one file per key, its name the key with unsafe bytes as %XX.
    let on_disk = |name: &str| std::fs::read(dir.path().join("default").join(name)).ok();
    assert_eq!(on_disk("user%3A42").as_deref(), Some(&b"ada"[..]));
    assert_eq!(on_disk("%2Ehidden%2Fa").as_deref(), Some(&b"x"[..]));
    // A value written by another process is read back.
    std::fs::write(dir.path().join("default/seed"), "1").unwrap();
    let store = run.adapter.wasi_keyvalue0_2_0_draft_store();
    let bucket = store.bucket();
    let s = &mut run.store;
    assert_eq!(
        bucket.call_get(&mut *s, b, "seed").unwrap(),
        Ok(Some(b"1".to_vec()))
    );
    assert_eq!(bucket.call_exists(&mut *s, b, "seed").unwrap(), Ok(true));
    bucket.call_delete(&mut *s, b, "seed").unwrap().unwrap();
    assert_eq!(bucket.call_exists(&mut *s, b, "seed").unwrap(), Ok(false));
    // Deleting what is not there is no error.
    bucket.call_delete(&mut *s, b, "seed").unwrap().unwrap();
    assert!(
        matches!(bucket.call_set(&mut *s, b, "", b"x").unwrap(), Err(Error::Other(m)) if m.contains("empty key"))
    );
    // A store whose folder is missing, or a name that is not a folder name.
    assert_eq!(run.open("other").unwrap_err(), Error::NoSuchStore);
    assert_eq!(run.open("../default").unwrap_err(), Error::NoSuchStore);
}

#[test]
fn keys_are_listed_in_order_a_page_at_a_time_without_locks_or_temporary_files() {
    let dir = stores();
    let folder = dir.path().join("default");
    for i in 0..1003 {
        std::fs::write(folder.join(format!("k{i:04}")), "v").unwrap();
    }
    std::fs::write(folder.join("k0001~lock"), "").unwrap();
    std::fs::write(folder.join("k0002~tmp1f"), "v").unwrap();
    let mut run = start(Some(dir.path()), &[]);
    let b = run.open("default").unwrap();
    run.set(b, "a/b", b"v").unwrap();
    let first = run.list(b, None).unwrap();
    assert_eq!(first.keys.len(), 1000);
    assert_eq!(first.keys[0], "a/b");
    assert_eq!(first.keys[1], "k0000");
    assert_eq!(first.cursor, Some(1000));
    let second = run.list(b, first.cursor).unwrap();
    assert_eq!(second.keys, ["k0999", "k1000", "k1001", "k1002"]);
    assert_eq!(second.cursor, None);
}

#[test]
fn increments_count_in_decimal_text_and_refuse_what_they_cannot_hold() {
    let dir = stores();
    let mut run = start(Some(dir.path()), &[]);
    let b = run.open("default").unwrap();
    assert_eq!(run.increment(b, "hits", 5), Ok(5));
    assert_eq!(run.increment(b, "hits", 2), Ok(7));
    let hits = dir.path().join("default/hits");
    assert_eq!(std::fs::read_to_string(&hits).unwrap(), "7");
    let err = run.increment(b, "hits", u64::MAX).unwrap_err();
    assert!(
        matches!(&err, Error::Other(m) if m.contains("u64")),
        "{err:?}"
    );
    assert_eq!(std::fs::read_to_string(&hits).unwrap(), "7", "untouched");
    run.set(b, "name", b"ada").unwrap();
    let err = run.increment(b, "name", 1).unwrap_err();
    assert!(
        matches!(&err, Error::Other(m) if m.contains("not a counter")),
        "{err:?}"
    );
    // No lock is left behind.
    let left: Vec<_> = std::fs::read_dir(dir.path().join("default"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains('~'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn an_increment_waits_for_a_held_lock_and_breaks_an_abandoned_one() {
    let dir = stores();
    let lock = dir.path().join("default/hits~lock");
    // Held by another increment, which finishes soon.
    std::fs::write(&lock, "").unwrap();
    let releaser = {
        let lock = lock.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            std::fs::remove_file(lock).unwrap();
        })
    };
    let mut run = start(Some(dir.path()), &[]);
    let b = run.open("default").unwrap();
    assert_eq!(run.increment(b, "hits", 1), Ok(1));
    releaser.join().unwrap();
    // Left by an instance that died holding it: older than the limit.
    let file = std::fs::File::create(&lock).unwrap();
    file.set_modified(SystemTime::now() - Duration::from_secs(120))
        .unwrap();
    drop(file);
    assert_eq!(run.increment(b, "hits", 1), Ok(2));
    assert!(!lock.exists());
}

#[test]
fn concurrent_increments_from_several_instances_lose_nothing() {
    let dir = stores();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let path = dir.path().to_path_buf();
            std::thread::spawn(move || {
                let mut run = start(Some(&path), &[]);
                let b = run.open("default").unwrap();
                for _ in 0..25 {
                    run.increment(b, "hits", 1).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("default/hits")).unwrap(),
        "100"
    );
}

#[test]
fn config_comes_from_fn_config_variables() {
    use exports::wasi::config0_2_0_rc_1::store::Error as ConfigError;
    let mut run = start(
        None,
        &[
            ("FN_CONFIG_REGION", "eu"),
            ("FN_CONFIG_API_URL", "https://api.test"),
            ("HOME", "/"),
        ],
    );
    let config = run.adapter.wasi_config0_2_0_rc_1_store();
    let s = &mut run.store;
    assert_eq!(
        config.call_get(&mut *s, "region").unwrap(),
        Ok(Some("eu".into()))
    );
    assert_eq!(
        config.call_get(&mut *s, "api_url").unwrap(),
        Ok(Some("https://api.test".into()))
    );
    assert_eq!(
        config.call_get(&mut *s, "missing").unwrap(),
        Ok::<_, ConfigError>(None)
    );
    let mut all = config.call_get_all(&mut *s).unwrap().unwrap();
    all.sort();
    assert_eq!(
        all,
        [
            ("api_url".to_owned(), "https://api.test".to_owned()),
            ("region".to_owned(), "eu".to_owned())
        ]
    );
}

#[test]
fn without_fn_kv_dir_opening_a_store_says_what_to_set() {
    let mut run = start(None, &[]);
    let err = run.open("default").unwrap_err();
    assert!(
        matches!(&err, Error::Other(m) if m.contains("FN_KV_DIR")),
        "{err:?}"
    );
}
