//! Registries for the publishing tests: a real `docker-registry` on a free
//! loopback port (or `FN_TEST_REGISTRY=host:port`), and a scripted fake
//! that answers fixed responses (401, 403, wrong bytes).

#![allow(dead_code)]
use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A registry the tests push to.
pub struct Registry {
    /// `127.0.0.1:port`.
    pub addr: String,
    child: Option<Child>,
    _storage: Option<tempfile::TempDir>,
}

impl Drop for Registry {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            // The watchdog shell kills the registry when it is signalled.
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
    }
}

const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

/// Starts `docker-registry serve` on a free port, or uses
/// `FN_TEST_REGISTRY`. Panics with install instructions if neither exists.
pub fn start() -> Registry {
    start_with(None)
}

/// Starts `docker-registry` requiring HTTP basic auth with the given
/// htpasswd lines (bcrypt). Needs the binary: `FN_TEST_REGISTRY` is not
/// used, since its auth is unknown.
pub fn start_with_htpasswd(htpasswd: &str) -> Registry {
    start_with(Some(htpasswd))
}

fn start_with(htpasswd: Option<&str>) -> Registry {
    if let Ok(addr) = std::env::var("FN_TEST_REGISTRY")
        && !addr.is_empty()
        && htpasswd.is_none()
    {
        return Registry {
            addr,
            child: None,
            _storage: None,
        };
    }
    assert!(
        Path::new(REGISTRY_BIN).exists(),
        "the publishing tests need an OCI registry: install Debian's registry with \
         `sudo apt-get install -y docker-registry` (binary {REGISTRY_BIN}), or set \
         FN_TEST_REGISTRY=host:port to a running registry without TLS"
    );
    let storage = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let config = storage.path().join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
            storage.path().join("data").display()
        ),
    )
    .unwrap();
    if let Some(lines) = htpasswd {
        let file = storage.path().join("htpasswd");
        std::fs::write(&file, lines).unwrap();
        let mut text = std::fs::read_to_string(&config).unwrap();
        text.push_str(&format!(
            "auth:\n  htpasswd:\n    realm: cargo-fn-tests\n    path: {}\n",
            file.display()
        ));
        std::fs::write(&config, text).unwrap();
    }
    // A shell watchdog runs the registry and stops it when the test process
    // exits (statics are never dropped) or when the shell is signalled.
    let script = format!(
        "{REGISTRY_BIN} serve \"$1\" & r=$!; trap 'kill $r 2>/dev/null' EXIT INT TERM; \
         while kill -0 {} 2>/dev/null && kill -0 $r 2>/dev/null; do sleep 0.2; done",
        std::process::id()
    );
    let child = Command::new("sh")
        .args(["-c", &script, "registry"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start docker-registry");
    let registry = Registry {
        addr: addr.clone(),
        child: Some(child),
        _storage: Some(storage),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok((status, _, _)) = get(&addr, "/v2/", &[]) {
            let expected = if htpasswd.is_some() { 401 } else { 200 };
            assert_eq!(status, expected, "the registry answers /v2/");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "docker-registry did not start on {addr}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    registry
}

/// A port nothing listens on (now).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A plain HTTP/1.1 GET; returns status, lower-cased headers and body.
pub fn get(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<(u16, HashMap<String, String>, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes())?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let mut head = HashMap::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            head.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let mut body = Vec::new();
    if let Some(len) = head
        .get("content-length")
        .and_then(|l| l.parse::<usize>().ok())
    {
        body.resize(len, 0);
        reader.read_exact(&mut body)?;
    } else {
        reader.read_to_end(&mut body)?;
    }
    Ok((status, head, body))
}

/// One scripted response.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A fake registry on a loopback port: answers each request by the longest
/// matching path prefix, `fallback` otherwise. Runs until the process ends.
pub fn fake(routes: Vec<(String, Reply)>, fallback: Reply) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let routes = routes.clone();
            let fallback = fallback.clone();
            std::thread::spawn(move || answer(stream, &routes, &fallback));
        }
    });
    addr
}

fn answer(stream: TcpStream, routes: &[(String, Reply)], fallback: &Reply) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let mut content_length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim_end().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            content_length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut sink = vec![0; content_length];
    let _ = reader.read_exact(&mut sink);
    let reply = routes
        .iter()
        .filter(|(prefix, _)| path.starts_with(prefix.as_str()))
        .max_by_key(|(prefix, _)| prefix.len())
        .map_or(fallback, |(_, r)| r);
    let mut out = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (k, v) in &reply.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut stream = reader.into_inner();
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.write_all(&reply.body);
}
