//! Sales analytics over uploaded data sets.
//!
//! - `POST /datasets/<name>` with a CSV (`text/csv`, header
//!   `date,region,product,quantity,unit_price`) or JSON-lines
//!   (`application/x-ndjson`) body aggregates it in one streaming pass and
//!   stores the report in key-value under `report:<name>`. Malformed rows are
//!   counted and sampled (line and reason), never fatal.
//! - `GET /datasets/<name>/report` returns the stored report.
//! - `GET /datasets` lists the data set names.

mod parse;
mod report;
mod row;

use fnsdk::extract::Path;
use fnsdk::router::{Router, get, post};
use fnsdk::{Error, Request, Response, Result, StatusCode, function, kv::Store};
use serde_json::json;

use crate::report::Aggregator;

/// Key-value prefix of the stored reports; the rest of the key is the name.
const REPORT_PREFIX: &str = "report:";

/// Routes `GET /datasets`, `POST /datasets/{name}` and
/// `GET /datasets/{name}/report`.
#[function]
fn analytics() -> Router {
    Router::new()
        .route("/datasets", get(list))
        .route("/datasets/", get(list))
        .route("/datasets/{name}", post(upload))
        .route("/datasets/{name}/report", get(report))
}

/// The formats an upload may come in.
#[derive(Clone, Copy)]
enum Format {
    Csv,
    Ndjson,
}

impl Format {
    fn of(req: &Request) -> Result<Self> {
        let content_type = req.header("content-type").unwrap_or("");
        // `text/csv; charset=utf-8` is text/csv.
        let mime = content_type.split(';').next().unwrap_or("").trim();
        match mime.to_ascii_lowercase().as_str() {
            "text/csv" => Ok(Format::Csv),
            "application/x-ndjson" | "application/jsonl" => Ok(Format::Ndjson),
            _ => Err(Error::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "unsupported content-type {content_type:?}; send text/csv or application/x-ndjson"
                ),
            )),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Ndjson => "ndjson",
        }
    }
}

fn upload(Path(name): Path<String>, req: Request) -> Result<Response> {
    let name = name.as_str();
    validate_name(name)?;
    let format = Format::of(&req)?;
    let body = req
        .body()
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(req.body());
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::bad_request("the body is empty; send the data set"));
    }

    let mut agg = Aggregator::default();
    match format {
        Format::Csv => parse::csv(body, &mut agg)?,
        Format::Ndjson => parse::ndjson(body, &mut agg),
    }
    if agg.rows() == 0 {
        let first = agg
            .samples()
            .first()
            .map(|m| format!("; line {}: {}", m.line, m.reason))
            .unwrap_or_default();
        return Err(Error::bad_request(format!(
            "no valid rows ({} malformed){first}",
            agg.malformed()
        )));
    }

    let report = agg.finish(name, format.name());
    let summary = json!({
        "dataset": name,
        "format": report.format,
        "rows": report.rows,
        "malformed_rows": report.malformed_rows,
        "malformed_samples": report.malformed_samples,
        "revenue_cents": report.revenue_cents.total,
        "report": format!("/datasets/{name}/report"),
    });
    Store::open_default()?.set_json(&format!("{REPORT_PREFIX}{name}"), &report)?;
    fnsdk::info!(
        "dataset {name}: {} rows, {} malformed",
        report.rows,
        report.malformed_rows
    );
    Ok(fnsdk::json(&summary))
}

fn report(Path(name): Path<String>) -> Result<Response> {
    let name = name.as_str();
    validate_name(name)?;
    let stored = Store::open_default()?.get(&format!("{REPORT_PREFIX}{name}"))?;
    let report =
        stored.ok_or_else(|| Error::not_found(format!("no data set {name:?}; upload it first")))?;
    // Stored as JSON already: hand the bytes back as they are.
    Ok(Response::new(report).with_header("content-type", "application/json"))
}

fn list() -> Result<Response> {
    let mut names: Vec<String> = Store::open_default()?
        .keys()?
        .into_iter()
        .filter_map(|k| k.strip_prefix(REPORT_PREFIX).map(str::to_owned))
        .collect();
    names.sort();
    Ok(fnsdk::json(&json!({ "datasets": names })))
}

/// Names appear in URLs and key-value keys: keep them plain.
fn validate_name(name: &str) -> Result<()> {
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if name.is_empty() || name.len() > 64 || !name.chars().all(plain) {
        return Err(Error::bad_request(format!(
            "invalid data set name {name:?}: use 1 to 64 letters, digits, - and _"
        )));
    }
    Ok(())
}
