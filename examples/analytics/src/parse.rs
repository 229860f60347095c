//! Reading an upload, CSV or JSON lines, row by row into an [`Aggregator`].
//!
//! Rows borrow from the request body: a valid row costs no allocation.
//! Problems with a row are counted, never fatal; only an upload that cannot
//! be read at all (no header, missing columns) is an error.

use std::borrow::Cow;

use fnsdk::{Error, Result};
use serde::{Deserialize, Deserializer, de};

use crate::report::Aggregator;
use crate::row::{self, COLUMNS, Problem, Row};

/// A CSV upload with a header row naming the [`COLUMNS`] in any order
/// (other columns are ignored).
pub fn csv(body: &[u8], agg: &mut Aggregator) -> Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true) // a short row is a malformed row, not the end
        .from_reader(body);
    let header = reader
        .byte_headers()
        .map_err(|e| Error::bad_request(format!("cannot read the CSV header: {e}")))?;
    let index = column_indexes(header)?;

    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                match csv_row(&record, &index) {
                    Ok(row) => agg.add(row),
                    Err(problem) => agg.reject(line, problem),
                }
            }
            // Byte records skip UTF-8 checks and a slice cannot fail to
            // read, so this is not expected; stop rather than loop.
            Err(e) => return Err(Error::bad_request(format!("cannot read the CSV: {e}"))),
        }
    }
}

/// Where each of [`COLUMNS`] is in the header.
fn column_indexes(header: &csv::ByteRecord) -> Result<[usize; 5]> {
    let names: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_ascii_lowercase())
        .collect();
    let mut index = [0; 5];
    let mut missing = Vec::new();
    for (slot, column) in index.iter_mut().zip(COLUMNS) {
        match names.iter().position(|n| n == column) {
            Some(i) => *slot = i,
            None => missing.push(column),
        }
    }
    if missing.is_empty() {
        return Ok(index);
    }
    let found = names.join(",");
    Err(Error::bad_request(format!(
        "the CSV header must name the columns {} (any order); missing {}; the first line was {found:?}",
        COLUMNS.join(","),
        missing.join(", "),
    )))
}

fn csv_row<'r>(record: &'r csv::ByteRecord, index: &[usize; 5]) -> Result<Row<'r>, Problem> {
    if record.len() < COLUMNS.len() {
        return Err(Problem::FieldCount {
            found: record.len(),
        });
    }
    let field = |i: usize| {
        std::str::from_utf8(&record[index[i]]).map_err(|_| Problem::NotUtf8 { column: COLUMNS[i] })
    };
    Row::new(
        field(0)?,
        field(1)?,
        field(2)?,
        row::quantity(field(3)?)?,
        row::unit_price_cents(field(4)?)?,
    )
}

/// One JSON object per line; blank lines are skipped.
pub fn ndjson(body: &[u8], agg: &mut Aggregator) {
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let result = match serde_json::from_slice::<JsonRow<'_>>(line) {
            Ok(r) => Row::new(&r.date, &r.region, &r.product, r.quantity, r.unit_price.0)
                .map(|row| agg.add(row)),
            // A JSON line of the wrong shape reads "missing field `quantity`";
            // only unparsable lines get the "invalid JSON" prefix.
            Err(e) if e.is_data() => Err(Problem::Fields(e.to_string())),
            Err(e) => Err(Problem::Json(e.to_string())),
        };
        if let Err(problem) = result {
            agg.reject(i as u64 + 1, problem);
        }
    }
}

/// A JSON line; strings borrow from the body unless they contain escapes.
#[derive(Deserialize)]
struct JsonRow<'a> {
    #[serde(borrow)]
    date: Cow<'a, str>,
    #[serde(borrow)]
    region: Cow<'a, str>,
    #[serde(borrow)]
    product: Cow<'a, str>,
    quantity: u64,
    unit_price: Cents,
}

/// `unit_price` as a JSON number (`9.99`) or string (`"9.99"`), in cents.
struct Cents(u64);

impl<'de> Deserialize<'de> for Cents {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Cents;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an amount like 9.99")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Cents, E> {
                v.checked_mul(100)
                    .map(Cents)
                    .ok_or_else(|| E::custom(Problem::UnitPrice))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Cents, E> {
                Err(E::custom(Problem::UnitPrice))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Cents, E> {
                row::unit_price_cents_from_f64(v)
                    .map(Cents)
                    .map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Cents, E> {
                row::unit_price_cents(v).map(Cents).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}
