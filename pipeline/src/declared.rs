//! What the function's code declares about itself, read from the
//! component: configuration keys (`fnsdk::config!`, custom section
//! `fn-config`) and handled event types (`#[function(event = "...")]`,
//! `fn-events`), checked against `[package.metadata.fn]`, so the code is
//! the one source and the table the deployments come from cannot drift.

use std::collections::BTreeMap;

use crate::error::WasmError;
use crate::sections;

/// Ends a record.
const RECORD: u8 = 0x1e;
/// Separates the fields of a `fn-config` record.
const FIELD: u8 = 0x1f;

/// One configuration key the code declares.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConfigDecl {
    /// The key.
    pub key: String,
    /// Its default, if any.
    pub default: Option<String>,
    /// Whether it is a secret.
    pub secret: bool,
}

/// Everything the code declares.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Declared {
    /// Configuration keys, sorted by key, each once.
    pub config: Vec<ConfigDecl>,
    /// Event types, sorted, each once.
    pub events: Vec<String>,
}

impl Declared {
    /// Whether the code declares nothing.
    pub fn is_empty(&self) -> bool {
        self.config.is_empty() && self.events.is_empty()
    }
}

/// Reads the declarations of `component`'s main module; call it before
/// custom sections are stripped.
pub fn read(component: &[u8]) -> Result<Declared, WasmError> {
    let main = sections::main_module(component)?;
    let mut config = BTreeMap::new();
    let mut events = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(main) {
        let wasmparser::Payload::CustomSection(section) = payload? else {
            continue;
        };
        match section.name() {
            "fn-config" => {
                for record in records(section.data())? {
                    let decl = config_record(record)?;
                    if let Some(earlier) = config.get(&decl.key)
                        && earlier != &decl
                    {
                        return Err(WasmError::UnsupportedLayout(format!(
                            "config key {:?} is declared twice, differently",
                            decl.key
                        )));
                    }
                    config.insert(decl.key.clone(), decl);
                }
            }
            "fn-events" => {
                for record in records(section.data())? {
                    events.push(text(record)?);
                }
            }
            _ => {}
        }
    }
    events.sort();
    events.dedup();
    Ok(Declared {
        config: config.into_values().collect(),
        events,
    })
}

/// The records of a section. The linker may pad between the statics it
/// concatenates (debug builds do), so NUL bytes around records are skipped.
fn records(data: &[u8]) -> Result<impl Iterator<Item = &[u8]>, WasmError> {
    let end = data.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    if end > 0 && data[end - 1] != RECORD {
        return Err(malformed("a record is not terminated"));
    }
    Ok(data[..end].split(|&b| b == RECORD).filter_map(|record| {
        let start = record.iter().position(|&b| b != 0)?;
        Some(&record[start..])
    }))
}

fn config_record(record: &[u8]) -> Result<ConfigDecl, WasmError> {
    let (&flag, rest) = record
        .split_first()
        .ok_or_else(|| malformed("empty config record"))?;
    let mut fields = rest.split(|&b| b == FIELD);
    let (Some(key), Some(default), None) = (fields.next(), fields.next(), fields.next()) else {
        return Err(malformed("a config record does not have two fields"));
    };
    let key = text(key)?;
    let default = text(default)?;
    match flag {
        b'S' => Ok(ConfigDecl {
            key,
            default: None,
            secret: true,
        }),
        b'D' => Ok(ConfigDecl {
            key,
            default: Some(default),
            secret: false,
        }),
        b'R' => Ok(ConfigDecl {
            key,
            default: None,
            secret: false,
        }),
        _ => Err(malformed("unknown config record kind")),
    }
}

fn text(bytes: &[u8]) -> Result<String, WasmError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| malformed("a record is not UTF-8"))
}

fn malformed(what: &str) -> WasmError {
    WasmError::UnsupportedLayout(format!(
        "its fnsdk declarations (custom sections fn-config/fn-events) are malformed: {what}"
    ))
}

/// Where code and `[package.metadata.fn]` disagree, each with the fix;
/// empty when they agree. `metadata` is the package's `[package.metadata]`.
pub fn disagreements(declared: &Declared, metadata: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    let table = metadata.pointer("/fn/config");
    for decl in &declared.config {
        let wanted = match (&decl.default, decl.secret) {
            (_, true) => "{ secret = true }".to_owned(),
            (Some(default), false) => format!("{{ default = {default:?} }}"),
            (None, false) => "{}".to_owned(),
        };
        let Some(entry) = table.and_then(|t| t.get(&decl.key)) else {
            out.push(format!(
                "config key `{}` is declared in code but not in [package.metadata.fn.config]: add `{} = {wanted}`",
                decl.key, decl.key
            ));
            continue;
        };
        let secret = entry
            .get("secret")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        let default = entry.get("default").and_then(serde_json::Value::as_str);
        if secret != decl.secret || default != decl.default.as_deref() {
            out.push(format!(
                "config key `{}` differs between code and [package.metadata.fn.config]: the code says `{} = {wanted}`",
                decl.key, decl.key
            ));
        }
    }
    let listed: Vec<&str> = metadata
        .pointer("/fn/events")
        .and_then(serde_json::Value::as_array)
        .map(|a| a.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default();
    for event in &declared.events {
        if !listed.contains(&event.as_str()) {
            out.push(format!(
                "event type `{event}` is handled in code (#[function(event = ...)]) but not listed in [package.metadata.fn] events: add {event:?} to `events`"
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn declared() -> Declared {
        Declared {
            config: vec![
                ConfigDecl {
                    key: "api_key".into(),
                    default: None,
                    secret: true,
                },
                ConfigDecl {
                    key: "api_url".into(),
                    default: Some("https://a.example".into()),
                    secret: false,
                },
            ],
            events: vec!["user.registered".into()],
        }
    }

    #[test]
    fn records_parse() {
        let data = b"Sapi_key\x1f\x1eDapi_url\x1fhttps://a.example\x1e";
        let decls: Vec<_> = records(data)
            .unwrap()
            .map(|r| config_record(r).unwrap())
            .collect();
        assert_eq!(decls, declared().config);
        assert!(records(b"Sx\x1f").is_err());
        let padded: Vec<_> = records(b"\0\0Ra\x1f\x1e\0\0\0Rb\x1f\x1e\0\0")
            .unwrap()
            .collect();
        assert_eq!(padded, [&b"Ra\x1f"[..], &b"Rb\x1f"[..]]);
        assert!(config_record(b"Xk\x1f").is_err());
        assert!(config_record(b"Rk").is_err());
    }

    #[test]
    fn agreement_and_each_kind_of_drift() {
        let agree = json!({"fn": {
            "events": ["user.registered"],
            "config": {"api_key": {"secret": true}, "api_url": {"default": "https://a.example"}, "extra": {}}
        }});
        assert!(disagreements(&declared(), &agree).is_empty());
        let drift = json!({"fn": {
            "config": {"api_url": {"default": "https://b.example"}}
        }});
        let found = disagreements(&declared(), &drift);
        assert_eq!(found.len(), 3, "{found:#?}");
        assert!(
            found[0].contains("add `api_key = { secret = true }`"),
            "{}",
            found[0]
        );
        assert!(
            found[1].contains(r#"`api_url = { default = "https://a.example" }`"#),
            "{}",
            found[1]
        );
        assert!(
            found[2].contains(r#"add "user.registered" to `events`"#),
            "{}",
            found[2]
        );
        assert!(disagreements(&Declared::default(), &json!(null)).is_empty());
    }
}
