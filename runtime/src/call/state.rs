//! The data of one call's `Store`, and the linker that serves its imports.

use crate::clock::OffsetWallClock;
use crate::kv::{self, HostConfig, KeyValue, KvHost};
use crate::limits::MemoryLimiter;
use crate::logs::LogPipe;
use crate::outbound::OutboundHooks;
use crate::recording::tape::{Seeds, Tape, TapeMonotonicClock, TapeWallClock};
use std::collections::BTreeMap;
use std::sync::Arc;
use wasmtime::Engine;
use wasmtime::component::{Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_config::{WasiConfig, WasiConfigVariables};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// The config values calls see, in the shape each `wasi:config` version's
/// host wants; rebuilt when a value changes, shared by calls.
#[derive(Default)]
pub(crate) struct ConfigSnapshot {
    pub(crate) variables: WasiConfigVariables,
    pub(crate) values: BTreeMap<String, String>,
}

impl ConfigSnapshot {
    pub(crate) fn new(values: &BTreeMap<String, String>) -> Self {
        ConfigSnapshot {
            variables: values.iter().collect(),
            values: values.clone(),
        }
    }
}

/// Everything a call's store holds.
pub(crate) struct HostState {
    pub(crate) wasi: WasiCtx,
    pub(crate) http: WasiHttpCtx,
    pub(crate) table: ResourceTable,
    pub(crate) hooks: OutboundHooks,
    pub(crate) kv: KeyValue,
    pub(crate) config: Arc<ConfigSnapshot>,
    pub(crate) limiter: MemoryLimiter,
    /// The call's tape, when it is recorded or replayed.
    pub(crate) tape: Option<Arc<Tape>>,
}

impl HostState {
    pub(crate) fn new(
        (stdout, stderr): (&LogPipe, &LogPipe),
        hooks: OutboundHooks,
        kv: KeyValue,
        config: Arc<ConfigSnapshot>,
        memory_cap: u64,
        wall_clock: OffsetWallClock,
        tape: Option<(Arc<Tape>, Seeds)>,
    ) -> Self {
        // No arguments, environment, preopens or sockets: a function gets
        // exactly the capabilities the contract promises.
        let mut wasi = WasiCtx::builder();
        wasi.stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_ip_name_lookup(false)
            .allow_tcp(false)
            .allow_udp(false);
        let tape = match tape {
            None => {
                wasi.wall_clock(wall_clock);
                None
            }
            // A recorded or replayed call: the clocks go through the tape,
            // and the random sources are seeded from it.
            Some((tape, seeds)) => {
                let (secure, insecure) = seeds.generators();
                wasi.wall_clock(TapeWallClock {
                    live: wall_clock,
                    tape: tape.clone(),
                })
                .monotonic_clock(TapeMonotonicClock {
                    started: std::time::Instant::now(),
                    tape: tape.clone(),
                })
                .secure_random(secure)
                .insecure_random(insecure)
                .insecure_random_seed(seeds.insecure_seed);
                Some(tape)
            }
        };
        let wasi = wasi.build();
        HostState {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks,
            kv,
            config,
            limiter: MemoryLimiter::new(memory_cap),
            tape,
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

fn kv_host(state: &mut HostState) -> KvHost<'_> {
    KvHost {
        kv: &state.kv,
        table: &mut state.table,
        tape: state.tape.as_ref(),
    }
}

fn config_host(state: &mut HostState) -> WasiConfig<'_> {
    WasiConfig::new(&state.config.variables)
}

fn host_config(state: &mut HostState) -> HostConfig<'_> {
    HostConfig(&state.config.values)
}

/// A linker serving all of WASI 0.2 (so plain `cargo build` outputs run
/// too), `wasi:http`, `wasi:keyvalue@0.2.0-draft` and
/// `wasi:config/store@0.2.0-rc.1`, Spin's `wasi:keyvalue@0.2.0-draft2`
/// and `wasi:config/store@0.2.0-draft-2024-09-27`, and wasmCloud 1.x's
/// `wasi:config/store@0.2.0-draft`, over the same stores and values.
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    kv::add_to_linker(&mut linker, kv_host)?;
    wasmtime_wasi_config::add_to_linker(&mut linker, config_host)?;
    kv::add_host_versions_to_linker(&mut linker, kv_host, host_config)?;
    Ok(linker)
}
