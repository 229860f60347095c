//! `[package.metadata.fn]`: the triggers and capabilities a function
//! declares once, from which every provider bundle is generated.
//!
//! ```toml
//! [package.metadata.fn]
//! route = "/orders/..."            # HTTP route, Spin syntax ("/..." = wildcard)
//! events = ["user.registered"]     # CloudEvent types handled (optional)
//! schedule = "*/5 * * * *"         # cron, 5 fields or @daily etc. (optional)
//! key-value = ["default"]          # kv stores opened
//! allowed-outbound-hosts = ["https://api.stripe.com"]
//! [package.metadata.fn.config]     # every config key read
//! payment_api_key = { secret = true }
//! payment_api_url = { default = "https://api.stripe.com" }
//! # and, for `cargo fn build`: wasm-opt = "z"   (0-4, s, z or none; release default s)
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
    /// Five-field cron expression (names like `MON-FRI`, `JAN` allowed) or
    /// a shorthand such as `@daily`.
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
    /// wasm-opt level for `cargo fn build` (`"s"`, `"z"`, `"0"`..`"4"`,
    /// `"none"`); release builds default to `"s"`.
    pub wasm_opt: Option<String>,
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
        if let Some(level) = &self.wasm_opt {
            level
                .parse::<fn_pipeline::WasmOpt>()
                .map_err(|e| format!("wasm-opt: {e} (or \"none\")"))?;
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

/// The five cron fields in order: what each is called and what it takes.
const CRON_FIELDS: [(&str, &str); 5] = [
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day of month", "1-31, L (last) or nW (nearest weekday)"),
    ("month", "1-12 or JAN-DEC"),
    (
        "day of week",
        "0-7 (0 and 7 are Sunday) or SUN-SAT, nL (last) or n#k (k-th)",
    ),
];

/// The `@` shorthands every cron flavour we target shares.
const CRON_MACROS: [&str; 6] = [
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@hourly",
];

/// A five-field cron expression (minute hour day-of-month month
/// day-of-week, names such as `MON-FRI` and `JAN` allowed) or one of
/// [`CRON_MACROS`], parsed with croner. On an error, each field is parsed
/// on its own to name the one at fault.
fn check_cron(cron: &str) -> Result<(), String> {
    use croner::parser::{CronParser, Seconds, Year};
    let parser = CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build();
    let why = |e: croner::errors::CronError| match e {
        croner::errors::CronError::ComponentError(m)
        | croner::errors::CronError::InvalidPattern(m)
        | croner::errors::CronError::IllegalCharacters(m) => {
            let m = m.trim_end_matches('.');
            let mut chars = m.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_lowercase().chain(chars).collect::<String>()
            })
        }
        other => other.to_string(),
    };
    let cron = cron.trim();
    if cron.starts_with('@') {
        if !CRON_MACROS.iter().any(|m| m.eq_ignore_ascii_case(cron)) {
            return Err(format!(
                "unknown shorthand; use five fields or one of {}",
                CRON_MACROS.join(", ")
            ));
        }
        return parser.parse(cron).map(drop).map_err(why);
    }
    let fields: Vec<&str> = cron.split_whitespace().collect();
    if fields.len() != CRON_FIELDS.len() {
        return Err(format!(
            "expected 5 fields (minute hour day-of-month month day-of-week) or one of {}, found {} fields",
            CRON_MACROS.join(", "),
            fields.len()
        ));
    }
    for (i, (field, (name, takes))) in fields.iter().zip(CRON_FIELDS).enumerate() {
        let mut alone = ["*"; 5];
        alone[i] = field;
        let error = check_cron_names(i, field)
            .err()
            .or_else(|| parser.parse(&alone.join(" ")).err().map(why));
        if let Some(error) = error {
            return Err(format!(
                "{name} field {field:?}: {error}; it takes {takes}, *, and lists (,), ranges (-) and steps (/) of those"
            ));
        }
    }
    parser.parse(cron).map(drop).map_err(why)
}

/// croner reads month and day names anywhere in the pattern (`MON` in the
/// minute field would become minute 1); names and letters are allowed only
/// in the fields they belong to.
fn check_cron_names(field_index: usize, field: &str) -> Result<(), String> {
    const MONTHS: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    if let Some(c) = field
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "*,-/#?".contains(*c)))
    {
        return Err(format!("{c:?} is not allowed"));
    }
    let words = field
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty());
    for word in words {
        let upper = word.to_ascii_uppercase();
        let ok = match field_index {
            2 => matches!(upper.as_str(), "L" | "W" | "LW"),
            3 => MONTHS.contains(&upper.as_str()),
            4 => upper == "L" || DAYS.contains(&upper.as_str()),
            _ => false,
        };
        if !ok {
            return Err(format!("{word:?} is not a name or letter this field takes"));
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
            ("schedule = \"5-1 * * * *\"", "range out of bounds"),
            ("schedule = \"* 24 * * *\"", "hour field \"24\""),
            ("schedule = \"* * 0 * *\"", "day of month field"),
            ("schedule = \"* * * * 8\"", "day of week field \"8\""),
            ("schedule = \"* * * * MON-FRY\"", "\"FRY\" is not a name"),
            ("schedule = \"MON * * * *\"", "minute field \"MON\""),
            ("schedule = \"* * * MON *\"", "month field"),
            ("schedule = \"* * * * JAN\"", "day of week field"),
            ("schedule = \"* * * * +1\"", "'+' is not allowed"),
            ("schedule = \"@reboot\"", "unknown shorthand"),
            ("schedule = \"@every 5m\"", "unknown shorthand"),
            ("schedule = \"0 * * * * *\"", "found 6 fields"),
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
            "schedule = \"0 9 * * MON-FRI\"",
            "schedule = \"0 0 1 JAN,jul *\"",
            "schedule = \"30 8 * * sun,7\"",
            "schedule = \"@daily\"",
            "schedule = \"@Weekly\"",
            "schedule = \"0 0 L * *\"",
            "schedule = \"0 12 15W * *\"",
            "schedule = \"0 0 * * 5L\"",
            "schedule = \"0 0 ? * 1#2\"",
        ] {
            parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }
}
