//! Key-value stores in Redis, for hosts where memory is per instance (the
//! cloud runners): [`RedisConfig`] says where, [`Redis`] holds one
//! multiplexed connection, reopened after a failure, and bounds every
//! command by the configured timeouts.

use super::{DEFAULT_STORE, PAGE, lock};
use crate::error::Error;
use ::redis::aio::MultiplexedConnection;
use ::redis::{AsyncConnectionConfig, Client, Cmd, FromRedisValue, RedisError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The default connect and response timeouts.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// Where and how a [`KeyValue`](super::KeyValue) keeps its stores in Redis
/// ([`KeyValue::redis`](super::KeyValue::redis)).
///
/// ```
/// use fn_runtime::{KeyValue, RedisConfig};
/// use std::time::Duration;
///
/// let config = RedisConfig::new("redis://:secret@10.0.0.5:6379/0", "orders")
///     .stores(["sessions", "carts"])
///     .response_timeout(Duration::from_millis(500));
/// assert_eq!(config.key("carts", "c-1"), "fn:orders:carts:c-1");
/// let kv = KeyValue::redis(config).unwrap(); // does not connect yet
/// assert_eq!(kv.store_names(), ["carts", "default", "sessions"]);
/// ```
///
/// **URL**: `redis://[[username]:password@]host[:port][/database]` (port
/// 6379 and database 0 by default), or `redis+unix:///path/to/socket`. TLS
/// (`rediss://`) is not supported by this build.
///
/// **Stores**: the guest may open [`DEFAULT_STORE`] and the stores added
/// with [`RedisConfig::store`]/[`RedisConfig::stores`] (a function's
/// declared `key-value` stores); any other name gets `no-such-store`.
///
/// **Key layout**: see [`RedisConfig::key`]. Values are the guest's bytes;
/// counters (`atomics.increment`, Redis `INCRBY`) are decimal text, the
/// format of [`fn_wit::keyvalue::counter`], but signed 64-bit in Redis:
/// deltas and values above `i64::MAX` are refused with an error.
///
/// **Timeouts and failures**: connecting gives up after the connect timeout,
/// a command after the response timeout (2 s each by default), so a call's
/// key-value operation fails within their sum whatever Redis does. When
/// Redis is down, unreachable or too slow, the guest gets `error::other`
/// with a message like "key-value store \`default\`: Redis at
/// 10.0.0.5:6379 is unreachable: Connection refused" (or "... timed out:
/// no answer to GET within 2s") and decides what to answer; the next
/// operation connects again, so calls work again as soon as Redis is back.
/// A command that fails on a connection Redis closed (an idle timeout, a
/// restart) is sent once more on a new connection, except `INCRBY`, which
/// is never repeated; an `INCRBY` that timed out may still be applied when
/// Redis catches up.
///
/// One connection is shared by all calls (commands are pipelined on it);
/// it is driven by the tokio runtime of the call that opened it, so use a
/// Redis [`KeyValue`](super::KeyValue) from one tokio runtime.
#[derive(Clone)]
pub struct RedisConfig {
    url: String,
    namespace: String,
    stores: Vec<String>,
    connect_timeout: Duration,
    response_timeout: Duration,
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &redact(&self.url))
            .field("namespace", &self.namespace)
            .field("stores", &self.stores)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .finish()
    }
}

impl RedisConfig {
    /// Stores of `namespace` (usually the function's name, so functions
    /// sharing a Redis do not see each other's keys) in the Redis at `url`,
    /// with only [`DEFAULT_STORE`] and 2 s timeouts.
    pub fn new(url: impl Into<String>, namespace: impl Into<String>) -> Self {
        RedisConfig {
            url: url.into(),
            namespace: namespace.into(),
            stores: vec![DEFAULT_STORE.to_owned()],
            connect_timeout: DEFAULT_TIMEOUT,
            response_timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Lets the guest open the store `name` too.
    pub fn store(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        if !self.stores.contains(&name) {
            self.stores.push(name);
        }
        self
    }

    /// Lets the guest open each of `names` too.
    pub fn stores<I>(self, names: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        names.into_iter().fold(self, Self::store)
    }

    /// How long to wait for a connection (TCP and handshake).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long to wait for the answer to a command.
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The Redis key that holds `key` of `store`:
    /// `fn:{namespace}:{store}:{key}`, where `%` in the namespace and the
    /// store name is written `%25` and `:` is written `%3A`, so that
    /// neither contains a `:` and every (namespace, store) pair has its own
    /// prefix: store `a:b` is `fn:orders:a%3Ab:...`, never store `a`. The
    /// key itself is written as is (everything after the third `:`).
    pub fn key(&self, store: &str, key: &str) -> String {
        format!("{}{key}", prefix(&self.namespace, store))
    }
}

/// `fn:{namespace}:{store}:`, both escaped (see [`RedisConfig::key`]).
fn prefix(namespace: &str, store: &str) -> String {
    format!("fn:{}:{}:", escape(namespace), escape(store))
}

fn escape(part: &str) -> String {
    part.replace('%', "%25").replace(':', "%3A")
}

/// `text` as a `SCAN MATCH` pattern that matches only itself.
fn glob_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `url` without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// The stores of one namespace in one Redis, and the connection to it.
pub(crate) struct Redis {
    client: Client,
    connection_config: AsyncConnectionConfig,
    /// `host:port` (no credentials), for messages.
    address: String,
    namespace: String,
    stores: HashMap<String, Arc<StoreKeys>>,
    connect_timeout: Duration,
    response_timeout: Duration,
    cached: Mutex<Cached>,
    /// Taken while connecting, so concurrent calls wait for one connection
    /// (within their own connect timeout) instead of each opening one.
    connecting: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Cached {
    /// Counts connections, so that a failure on an old one does not drop
    /// a newer one.
    generation: u64,
    connection: Option<MultiplexedConnection>,
}

/// Where a store's keys are.
struct StoreKeys {
    name: String,
    /// `fn:{namespace}:{store}:`.
    prefix: String,
    /// The prefix as a `SCAN MATCH` pattern, followed by `*`.
    pattern: String,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("address", &self.address)
            .field("namespace", &self.namespace)
            .field("stores", &self.store_names())
            .finish_non_exhaustive()
    }
}

/// Why a command did not get an answer.
enum Failure {
    /// No connection (refused, unresolvable, none within the connect
    /// timeout, or dropped while waiting).
    Unreachable(String),
    /// No answer within the response timeout.
    TimedOut,
    /// Redis answered with an error.
    Refused(RedisError),
}

impl Redis {
    pub(crate) fn new(config: RedisConfig) -> Result<Redis, Error> {
        if config.namespace.is_empty() {
            return Err(Error::KeyValue(
                "the Redis namespace is empty; use the function's name".into(),
            ));
        }
        if config.url.starts_with("rediss://") {
            return Err(Error::KeyValue(format!(
                "`{}`: TLS (rediss://) is not supported by this build; use redis:// \
                 on a private network",
                redact(&config.url)
            )));
        }
        let client = Client::open(config.url.as_str()).map_err(|err| {
            Error::KeyValue(format!(
                "invalid Redis URL `{}`: {err}; expected \
                 redis://[[username]:password@]host[:port][/database]",
                redact(&config.url)
            ))
        })?;
        let address = client.get_connection_info().addr().to_string();
        let stores = config
            .stores
            .iter()
            .chain([&DEFAULT_STORE.to_owned()])
            .map(|name| {
                let prefix = prefix(&config.namespace, name);
                let pattern = format!("{}*", glob_literal(&prefix));
                let keys = StoreKeys {
                    name: name.clone(),
                    prefix,
                    pattern,
                };
                (name.clone(), Arc::new(keys))
            })
            .collect();
        let connection_config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(Some(config.response_timeout));
        Ok(Redis {
            client,
            connection_config,
            address,
            namespace: config.namespace,
            stores,
            connect_timeout: config.connect_timeout,
            response_timeout: config.response_timeout,
            cached: Mutex::default(),
            connecting: tokio::sync::Mutex::new(()),
        })
    }

    /// "namespace `N` at HOST:PORT", for messages.
    pub(crate) fn location(&self) -> String {
        format!("namespace `{}` at {}", self.namespace, self.address)
    }

    pub(crate) fn store_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.stores.keys().cloned().collect();
        names.sort();
        names
    }

    /// The store a guest opens as `name`, if declared.
    pub(crate) fn open(self: &Arc<Self>, name: &str) -> Option<RedisBucket> {
        Some(RedisBucket {
            redis: self.clone(),
            store: self.stores.get(name)?.clone(),
        })
    }

    /// Sends `cmd`, and once more on a new connection when `retry` and the
    /// cached connection turns out to be closed. Fails within the connect
    /// timeout plus the response timeout.
    async fn query<T: FromRedisValue>(&self, cmd: &Cmd, retry: bool) -> Result<T, Failure> {
        let bound = self.connect_timeout + self.response_timeout;
        tokio::time::timeout(bound, self.attempt(cmd, retry))
            .await
            .unwrap_or(Err(Failure::TimedOut))
    }

    async fn attempt<T: FromRedisValue>(&self, cmd: &Cmd, mut retry: bool) -> Result<T, Failure> {
        loop {
            let (generation, mut connection, fresh) = self.connection().await?;
            let sent = cmd.query_async::<T>(&mut connection);
            let err = match tokio::time::timeout(self.response_timeout, sent).await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(err)) => err,
                Err(_) => {
                    self.forget(generation);
                    return Err(Failure::TimedOut);
                }
            };
            if err.is_timeout() {
                self.forget(generation);
                return Err(Failure::TimedOut);
            }
            if !(err.is_io_error() || err.is_connection_dropped() || err.is_unrecoverable_error()) {
                return Err(Failure::Refused(err));
            }
            self.forget(generation);
            if !retry || fresh {
                return Err(Failure::Unreachable(err.to_string()));
            }
            retry = false;
        }
    }

    /// The cached connection, or a new one; `true` when new.
    async fn connection(&self) -> Result<(u64, MultiplexedConnection, bool), Failure> {
        if let Some((generation, connection)) = self.cached() {
            return Ok((generation, connection, false));
        }
        let connect = async {
            let _turn = self.connecting.lock().await;
            if let Some((generation, connection)) = self.cached() {
                return Ok((generation, connection, false));
            }
            let connection = self
                .client
                .get_multiplexed_async_connection_with_config(&self.connection_config)
                .await
                .map_err(|err| Failure::Unreachable(err.to_string()))?;
            let mut cached = lock(&self.cached);
            cached.generation += 1;
            cached.connection = Some(connection.clone());
            Ok((cached.generation, connection, true))
        };
        tokio::time::timeout(self.connect_timeout, connect)
            .await
            .unwrap_or_else(|_| {
                Err(Failure::Unreachable(format!(
                    "no connection within {:?}",
                    self.connect_timeout
                )))
            })
    }

    fn cached(&self) -> Option<(u64, MultiplexedConnection)> {
        let cached = lock(&self.cached);
        Some((cached.generation, cached.connection.clone()?))
    }

    /// Drops connection `generation` (if still cached): the next command
    /// connects again.
    fn forget(&self, generation: u64) {
        let mut cached = lock(&self.cached);
        if cached.generation == generation {
            cached.connection = None;
        }
    }

    /// The message the guest gets for `failure` of `op` on `store`.
    fn describe(&self, store: &StoreKeys, op: &str, failure: Failure) -> String {
        let (store, address) = (&store.name, &self.address);
        match failure {
            Failure::Unreachable(reason) => {
                format!("key-value store `{store}`: Redis at {address} is unreachable: {reason}")
            }
            Failure::TimedOut => format!(
                "key-value store `{store}`: Redis at {address} timed out: no answer to {op} \
                 within {:?}",
                self.response_timeout
            ),
            Failure::Refused(err) => {
                format!("key-value store `{store}`: Redis at {address} refused {op}: {err}")
            }
        }
    }
}

/// An open store in Redis: what a guest's `bucket` handle holds.
pub struct RedisBucket {
    redis: Arc<Redis>,
    store: Arc<StoreKeys>,
}

impl RedisBucket {
    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.store.prefix)
    }

    /// Runs `op` on the key `key` (plus `args`), retrying once on a closed
    /// connection.
    async fn keyed<T: FromRedisValue>(
        &self,
        op: &str,
        key: &str,
        args: &[&[u8]],
    ) -> Result<T, String> {
        let mut cmd = ::redis::cmd(op);
        cmd.arg(self.key(key));
        for arg in args {
            cmd.arg(*arg);
        }
        self.redis
            .query(&cmd, true)
            .await
            .map_err(|failure| self.redis.describe(&self.store, op, failure))
    }

    pub(crate) async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.keyed("GET", key, &[]).await
    }

    pub(crate) async fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        self.keyed("SET", key, &[value]).await
    }

    pub(crate) async fn delete(&self, key: &str) -> Result<(), String> {
        self.keyed("DEL", key, &[]).await
    }

    pub(crate) async fn exists(&self, key: &str) -> Result<bool, String> {
        let count: u64 = self.keyed("EXISTS", key, &[]).await?;
        Ok(count > 0)
    }

    /// One `SCAN` page of the store's keys, without the prefix. The cursor
    /// is Redis's own; a page may be empty while the cursor is not done.
    pub(crate) async fn list_keys(
        &self,
        cursor: Option<u64>,
    ) -> Result<(Vec<String>, Option<u64>), String> {
        let mut cmd = ::redis::cmd("SCAN");
        cmd.arg(cursor.unwrap_or(0))
            .arg("MATCH")
            .arg(&self.store.pattern)
            .arg("COUNT")
            .arg(PAGE);
        let (next, keys): (u64, Vec<Vec<u8>>) = self
            .redis
            .query(&cmd, true)
            .await
            .map_err(|failure| self.redis.describe(&self.store, "SCAN", failure))?;
        let prefix = self.store.prefix.as_bytes();
        let keys = keys
            .iter()
            .filter_map(|key| key.strip_prefix(prefix))
            .map(|key| String::from_utf8_lossy(key).into_owned())
            .collect();
        Ok((keys, (next != 0).then_some(next)))
    }

    /// `INCRBY`: never sent twice, since Redis may have applied the first.
    pub(crate) async fn increment(&self, key: &str, delta: u64) -> Result<u64, String> {
        let what = format!("incrementing `{key}` by {delta}");
        let signed = i64::try_from(delta).map_err(|_| {
            format!(
                "{what}: Redis counters are signed 64-bit, deltas go up to {}",
                i64::MAX
            )
        })?;
        let mut cmd = ::redis::cmd("INCRBY");
        cmd.arg(self.key(key)).arg(signed);
        match self.redis.query::<i64>(&cmd, false).await {
            Ok(value) => u64::try_from(value)
                .map_err(|_| format!("{what}: the value ({value}) is negative, not a counter")),
            Err(Failure::Refused(err)) => Err(format!("{what}: {}", counter_error(&err))),
            Err(failure) => Err(self.redis.describe(&self.store, "INCRBY", failure)),
        }
    }
}

/// What Redis's refusal of an `INCRBY` means for a counter.
fn counter_error(err: &RedisError) -> String {
    let detail = err.detail().unwrap_or_default();
    if detail.contains("not an integer") {
        "the value is not a counter (decimal digits only)".into()
    } else if detail.contains("overflow") {
        format!(
            "the counter would overflow (Redis counters are signed 64-bit, up to {})",
            i64::MAX
        )
    } else if err.code() == Some("WRONGTYPE") {
        "the key holds a Redis list, set or hash, not a counter".into()
    } else {
        format!("Redis refused INCRBY: {err}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::KeyValue;

    #[test]
    fn keys_are_namespaced_and_colons_in_names_cannot_collide() {
        let config = RedisConfig::new("redis://127.0.0.1", "orders");
        assert_eq!(config.key("default", "visits"), "fn:orders:default:visits");
        assert_eq!(config.key("a:b", "c"), "fn:orders:a%3Ab:c");
        assert_eq!(config.key("a", "b:c"), "fn:orders:a:b:c");
        assert_eq!(config.key("a%3Ab", "c"), "fn:orders:a%253Ab:c");
        let other = RedisConfig::new("redis://127.0.0.1", "orders:a");
        assert_eq!(other.key("b", "c"), "fn:orders%3Aa:b:c");
    }

    #[test]
    fn scan_patterns_match_the_prefix_literally() {
        assert_eq!(glob_literal(r"fn:a*b?[c]\d:"), r"fn:a\*b\?\[c\]\\d:");
        let kv = Redis::new(RedisConfig::new("redis://127.0.0.1", "n*")).unwrap();
        assert_eq!(kv.stores[DEFAULT_STORE].pattern, r"fn:n\*:default:*");
    }

    #[test]
    fn configuration_errors_say_what_to_do() {
        let err = KeyValue::redis(RedisConfig::new("redis://127.0.0.1", "")).unwrap_err();
        assert!(err.to_string().contains("namespace is empty"), "{err}");
        let err = KeyValue::redis(RedisConfig::new("http://u:pw@host", "f")).unwrap_err();
        assert!(err.to_string().contains("redis://[[username]"), "{err}");
        assert!(!err.to_string().contains("pw"), "{err}");
        let err = KeyValue::redis(RedisConfig::new("rediss://:pw@host", "f")).unwrap_err();
        assert!(err.to_string().contains("TLS"), "{err}");
        assert!(!err.to_string().contains("pw"), "{err}");
        let debug = format!("{:?}", RedisConfig::new("redis://:pw@host", "f"));
        assert!(!debug.contains("pw"), "{debug}");
    }

    #[test]
    fn declared_stores_and_the_default_can_be_opened() {
        let config = RedisConfig::new("redis://127.0.0.1", "f").stores(["b", "a", "b"]);
        let redis = Arc::new(Redis::new(config).unwrap());
        assert_eq!(redis.store_names(), ["a", "b", DEFAULT_STORE]);
        assert!(redis.open("a").is_some());
        assert!(redis.open(DEFAULT_STORE).is_some());
        assert!(redis.open("c").is_none());
    }

    #[test]
    #[should_panic(expected = "stores of namespace `f` at 127.0.0.1:6379 are in Redis")]
    fn seeding_a_redis_backend_from_the_host_panics_with_a_pointer() {
        let kv = KeyValue::redis(RedisConfig::new("redis://127.0.0.1", "f")).unwrap();
        kv.set("k", "v");
    }

    fn bucket(url: &str, timeout: Duration) -> RedisBucket {
        let config = RedisConfig::new(url, "f")
            .connect_timeout(timeout)
            .response_timeout(timeout);
        Arc::new(Redis::new(config).unwrap())
            .open(DEFAULT_STORE)
            .unwrap()
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable_at_once() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let bucket = bucket(&format!("redis://127.0.0.1:{port}"), DEFAULT_TIMEOUT);
        let started = std::time::Instant::now();
        let err = bucket.get("k").await.unwrap_err();
        assert!(
            started.elapsed() < DEFAULT_TIMEOUT,
            "{:?}",
            started.elapsed()
        );
        let expected =
            format!("key-value store `default`: Redis at 127.0.0.1:{port} is unreachable");
        assert!(err.starts_with(&expected), "{err}");
    }

    #[tokio::test]
    async fn a_silent_server_fails_within_the_timeouts() {
        // Accepts connections (the kernel does) but never answers.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = silent.local_addr().unwrap().port();
        let timeout = Duration::from_millis(300);
        let bucket = bucket(&format!("redis://127.0.0.1:{port}"), timeout);
        for _ in 0..2 {
            let started = std::time::Instant::now();
            let err = bucket.increment("k", 1).await.unwrap_err();
            assert!(started.elapsed() < 2 * timeout + Duration::from_millis(200));
            assert!(
                err.contains("Redis at 127.0.0.1") && err.contains("unreachable")
                    || err.contains("timed out"),
                "{err}"
            );
        }
        drop(silent);
    }
}
