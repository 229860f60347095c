//! `[package.metadata.fn]`: the triggers and capabilities a function
//! declares once, from which every provider bundle is generated.
//!
//! ```toml
//! [package.metadata.fn]
//! route = "/orders/..."            # HTTP route, Spin syntax ("/..." = wildcard)
//! events = ["user.registered"]     # CloudEvent types handled (optional)
//! schedule = "*/5 * * * *"         # cron (optional)
//! key-value = ["default"]          # kv stores opened
//! allowed-outbound-hosts = ["https://api.stripe.com"]
//! [package.metadata.fn.config]     # every config key read
//! payment_api_key = { secret = true }
//! payment_api_url = { default = "https://api.stripe.com" }
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

/// The validated `[package.metadata.fn]` table.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FnMetadata {
    /// HTTP route, Spin syntax; `None` means every path (`/...`).
    pub route: Option<String>,
    /// CloudEvent types handled.
    #[serde(default)]
    pub events: Vec<String>,
    /// Five-field cron expression.
    pub schedule: Option<String>,
    /// Key-value stores opened.
    #[serde(default)]
    pub key_value: Vec<String>,
    /// Hosts the function calls, `scheme://host[:port]`.
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    /// Every configuration key read.
    #[serde(default)]
    pub config: BTreeMap<String, ConfigKey>,
}

/// One configuration key.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigKey {
    /// A secret: never written into a bundle, supplied at deploy time.
    #[serde(default)]
    pub secret: bool,
    /// The value when none is supplied; without one the key is required.
    pub default: Option<String>,
}

impl FnMetadata {
    /// The route, `/...` when none is declared.
    pub fn route_or_wildcard(&self) -> &str {
        self.route.as_deref().unwrap_or("/...")
    }

    /// Parses and validates the `fn` value of `package.metadata`
    /// (`null` when the table is absent).
    pub fn from_json(value: &serde_json::Value) -> Result<Self, String> {
        if value.is_null() {
            return Ok(Self::default());
        }
        let meta: FnMetadata = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
        meta.validate()?;
        Ok(meta)
    }

    /// Checks every field; the message names the field and the rule.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(route) = &self.route {
            check_route(route).map_err(|e| format!("route {route:?}: {e}"))?;
        }
        for event in &self.events {
            if event.is_empty() || event.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(format!(
                    "events: {event:?} is not a CloudEvent type (non-empty, no whitespace)"
                ));
            }
        }
        if let Some(cron) = &self.schedule {
            check_cron(cron).map_err(|e| format!("schedule {cron:?}: {e}"))?;
        }
        for store in &self.key_value {
            let ok = !store.is_empty()
                && store.starts_with(|c: char| c.is_ascii_lowercase())
                && store
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
            if !ok {
                return Err(format!(
                    "key-value: store {store:?} must start with a lowercase letter and use only lowercase letters, digits, '-' and '_'"
                ));
            }
        }
        for host in &self.allowed_outbound_hosts {
            check_outbound_host(host)
                .map_err(|e| format!("allowed-outbound-hosts: {host:?}: {e}"))?;
        }
        for key in self.config.keys() {
            check_config_key(key).map_err(|e| format!("config key {key:?}: {e}"))?;
        }
        Ok(())
    }
}

/// Spin's route syntax: absolute, `:name` segments, `...` only as the last
/// segment.
fn check_route(route: &str) -> Result<(), String> {
    let Some(rest) = route.strip_prefix('/') else {
        return Err("must start with '/'".into());
    };
    if rest.is_empty() {
        return Ok(());
    }
    let segments: Vec<&str> = rest.split('/').collect();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        if *seg == "..." {
            if !last {
                return Err("the wildcard '...' may only be the last segment".into());
            }
            continue;
        }
        if seg.contains("...") {
            return Err("the wildcard '...' must be a whole segment, e.g. \"/api/...\"".into());
        }
        if seg.is_empty() && !last {
            return Err("empty path segment ('//')".into());
        }
        if let Some(name) = seg.strip_prefix(':')
            && name.is_empty()
        {
            return Err("a ':' parameter segment needs a name".into());
        }
        if let Some(c) = seg
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-._~:@!$&'()*+,;=%".contains(*c)))
        {
            return Err(format!("{c:?} is not allowed in a route"));
        }
    }
    Ok(())
}

/// A five-field cron expression: minute hour day-of-month month day-of-week.
fn check_cron(cron: &str) -> Result<(), String> {
    const FIELDS: [(&str, u32, u32); 5] = [
        ("minute", 0, 59),
        ("hour", 0, 23),
        ("day of month", 1, 31),
        ("month", 1, 12),
        ("day of week", 0, 7),
    ];
    let fields: Vec<&str> = cron.split_whitespace().collect();
    if fields.len() != FIELDS.len() {
        return Err(format!(
            "expected 5 fields (minute hour day-of-month month day-of-week), found {}",
            fields.len()
        ));
    }
    for (field, (name, min, max)) in fields.iter().zip(FIELDS) {
        for part in field.split(',') {
            check_cron_part(part, min, max).map_err(|e| format!("{name} field {field:?}: {e}"))?;
        }
    }
    Ok(())
}

fn check_cron_part(part: &str, min: u32, max: u32) -> Result<(), String> {
    let (range, step) = match part.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (part, None),
    };
    if let Some(step) = step {
        match step.parse::<u32>() {
            Ok(n) if n >= 1 && n <= max.max(1) => {}
            _ => return Err(format!("step {step:?} must be a number from 1 to {max}")),
        }
    }
    if range == "*" {
        return Ok(());
    }
    let number = |s: &str| match s.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("{s:?} is not a number from {min} to {max}")),
    };
    match range.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (number(a)?, number(b)?);
            if a > b {
                return Err(format!("range {range:?} runs backwards"));
            }
        }
        None => {
            number(range)?;
        }
    }
    Ok(())
}

fn check_outbound_host(host: &str) -> Result<(), String> {
    let Some((scheme, rest)) = host.split_once("://") else {
        return Err("needs a scheme, e.g. \"https://api.example.com\"".into());
    };
    if !matches!(scheme, "http" | "https" | "*") {
        return Err(format!("scheme {scheme:?} must be http, https or *"));
    }
    let authority = rest.trim_end_matches('/');
    if authority.is_empty() || authority.contains('/') {
        return Err("must be scheme://host[:port], without a path".into());
    }
    Ok(())
}

/// Spin's variable names (the strictest host): lowercase ASCII letters,
/// digits and single underscores, starting with a letter.
fn check_config_key(key: &str) -> Result<(), String> {
    if !key.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(
            "must start with a lowercase letter (Spin refuses other variable names)".into(),
        );
    }
    if let Some(c) = key
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        return Err(format!(
            "{c:?} is not allowed; use lowercase letters, digits and '_' (Spin refuses other variable names)"
        ));
    }
    if key.contains("__") || key.ends_with('_') {
        return Err("no double underscores and no trailing underscore (Spin refuses them)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<FnMetadata, String> {
        let value: toml::Value = toml::from_str(toml_text).unwrap();
        let json = serde_json::to_value(value).unwrap();
        FnMetadata::from_json(&json)
    }

    #[test]
    fn the_documented_schema_parses() {
        let meta = parse(
            r#"
            route = "/orders/..."
            events = ["user.registered"]
            schedule = "*/5 * * * *"
            key-value = ["default"]
            allowed-outbound-hosts = ["https://api.stripe.com"]
            [config]
            payment_api_key = { secret = true }
            payment_api_url = { default = "https://api.stripe.com" }
            "#,
        )
        .unwrap();
        assert_eq!(meta.route_or_wildcard(), "/orders/...");
        assert_eq!(meta.key_value, ["default"]);
        assert!(meta.config["payment_api_key"].secret);
        assert_eq!(
            meta.config["payment_api_url"].default.as_deref(),
            Some("https://api.stripe.com")
        );
        assert_eq!(
            FnMetadata::from_json(&serde_json::Value::Null).unwrap(),
            FnMetadata::default()
        );
    }

    #[test]
    fn mistakes_are_refused_with_the_field_named() {
        for (toml_text, expected) in [
            ("rout = \"/\"", "unknown field `rout`"),
            (
                "[config]\na = { secrett = true }",
                "unknown field `secrett`",
            ),
            ("route = \"orders\"", "must start with '/'"),
            ("route = \"/a/.../b\"", "only be the last segment"),
            ("route = \"/a b\"", "not allowed in a route"),
            ("route = \"/a//b\"", "empty path segment"),
            ("schedule = \"* * * *\"", "expected 5 fields"),
            ("schedule = \"61 * * * *\"", "minute field"),
            ("schedule = \"* * * 13 *\"", "month field"),
            ("schedule = \"*/0 * * * *\"", "step"),
            ("schedule = \"5-1 * * * *\"", "backwards"),
            ("key-value = [\"Default\"]", "store \"Default\""),
            (
                "allowed-outbound-hosts = [\"api.stripe.com\"]",
                "needs a scheme",
            ),
            ("allowed-outbound-hosts = [\"ftp://x\"]", "scheme \"ftp\""),
            ("[config]\nApiKey = {}", "lowercase letter"),
            ("[config]\napi-key = {}", "'-' is not allowed"),
            ("[config]\napi__key = {}", "double underscores"),
            ("events = [\"a b\"]", "CloudEvent type"),
        ] {
            let e = parse(toml_text).unwrap_err();
            assert!(e.contains(expected), "{toml_text}: {e}");
        }
        for ok in [
            "route = \"/\"",
            "route = \"/...\"",
            "route = \"/users/:id\"",
            "schedule = \"0,30 9-17/2 1 1-12 1-5\"",
        ] {
            parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }
}
