//! One sales row and the checks every field passes, whatever the format.

use std::fmt;

/// The columns of a data set, in the order of the canonical CSV header.
pub const COLUMNS: [&str; 5] = ["date", "region", "product", "quantity", "unit_price"];

/// Largest quantity and unit price accepted: keeps every row's revenue
/// (and sums over millions of rows, kept in `u128`) far from overflow.
const MAX_QUANTITY: u64 = 1_000_000;
const MAX_UNIT_PRICE_CENTS: u64 = 100_000_000;

/// A valid row, borrowing its text from the upload.
pub struct Row<'a> {
    /// `YYYY-MM-DD`, so dates compare correctly as bytes.
    pub date: [u8; 10],
    pub region: &'a str,
    pub product: &'a str,
    pub quantity: u64,
    /// Money is kept in whole cents: sums are exact, and the same data gives
    /// the same report in any format.
    pub unit_price_cents: u64,
}

/// Why a row was rejected. Formatted only for the few rows that are sampled.
#[derive(Debug)]
pub enum Problem {
    FieldCount { found: usize },
    NotUtf8 { column: &'static str },
    Empty { column: &'static str },
    Date,
    Quantity,
    UnitPrice,
    Json(String),
    Fields(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::FieldCount { found } => {
                write!(f, "expected {} fields, found {found}", COLUMNS.len())
            }
            Problem::NotUtf8 { column } => write!(f, "`{column}` is not valid UTF-8"),
            Problem::Empty { column } => write!(f, "`{column}` is empty"),
            Problem::Date => f.write_str("`date` is not a valid YYYY-MM-DD date"),
            Problem::Quantity => write!(
                f,
                "`quantity` is not a whole number from 0 to {MAX_QUANTITY}"
            ),
            Problem::UnitPrice => write!(
                f,
                "`unit_price` is not an amount from 0 to {} with at most 2 decimals",
                MAX_UNIT_PRICE_CENTS / 100
            ),
            Problem::Json(err) => write!(f, "invalid JSON: {err}"),
            Problem::Fields(err) => f.write_str(err),
        }
    }
}

impl<'a> Row<'a> {
    /// Checks the text fields of a row. Numbers come in as text (CSV) or
    /// already parsed (JSON) and are checked by the callers with
    /// [`quantity`] and [`unit_price_cents`].
    pub fn new(
        date: &str,
        region: &'a str,
        product: &'a str,
        quantity: u64,
        unit_price_cents: u64,
    ) -> Result<Self, Problem> {
        let region = non_empty(region, "region")?;
        let product = non_empty(product, "product")?;
        if quantity > MAX_QUANTITY {
            return Err(Problem::Quantity);
        }
        if unit_price_cents > MAX_UNIT_PRICE_CENTS {
            return Err(Problem::UnitPrice);
        }
        Ok(Row {
            date: date_bytes(date).ok_or(Problem::Date)?,
            region,
            product,
            quantity,
            unit_price_cents,
        })
    }

    /// `quantity * unit_price`, in cents (cannot overflow given the caps).
    pub fn revenue_cents(&self) -> u64 {
        self.quantity * self.unit_price_cents
    }
}

fn non_empty<'a>(value: &'a str, column: &'static str) -> Result<&'a str, Problem> {
    let value = value.trim();
    if value.is_empty() {
        Err(Problem::Empty { column })
    } else {
        Ok(value)
    }
}

/// Parses a quantity written as text.
pub fn quantity(text: &str) -> Result<u64, Problem> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Problem::Quantity);
    }
    text.parse().map_err(|_| Problem::Quantity)
}

/// Parses `12`, `12.5` or `12.50` into cents, exactly (no floating point).
pub fn unit_price_cents(text: &str) -> Result<u64, Problem> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 12
        || fraction.len() > 2
        || !digits(whole)
        || !digits(fraction)
    {
        return Err(Problem::UnitPrice);
    }
    if text.ends_with('.') {
        return Err(Problem::UnitPrice);
    }
    let whole: u64 = whole.parse().map_err(|_| Problem::UnitPrice)?;
    let mut cents = 0;
    for (i, b) in fraction.bytes().enumerate() {
        cents += u64::from(b - b'0') * if i == 0 { 10 } else { 1 };
    }
    Ok(whole * 100 + cents)
}

/// A JSON number of currency units (`9.99`) in cents, when it has at most
/// two decimals.
pub fn unit_price_cents_from_f64(value: f64) -> Result<u64, Problem> {
    let cents = value * 100.0;
    let rounded = cents.round();
    if !(0.0..=MAX_UNIT_PRICE_CENTS as f64).contains(&rounded) || (cents - rounded).abs() > 1e-3 {
        return Err(Problem::UnitPrice);
    }
    Ok(rounded as u64)
}

/// `YYYY-MM-DD` with a real month and day, as bytes.
fn date_bytes(text: &str) -> Option<[u8; 10]> {
    let bytes: [u8; 10] = text.trim().as_bytes().try_into().ok()?;
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        bytes[range].iter().try_fold(0, |n, &b| {
            b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
        })
    };
    if bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days).contains(&day).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_parse_exactly_to_cents() {
        assert_eq!(unit_price_cents("12").unwrap(), 1200);
        assert_eq!(unit_price_cents("12.5").unwrap(), 1250);
        assert_eq!(unit_price_cents(" 0.07 ").unwrap(), 7);
        for bad in ["", "1.234", "-1", "1.", ".5", "1,5", "abc", "1e3"] {
            assert!(unit_price_cents(bad).is_err(), "{bad:?}");
        }
        assert_eq!(unit_price_cents_from_f64(9.99).unwrap(), 999);
        assert_eq!(unit_price_cents_from_f64(0.1).unwrap(), 10);
        assert!(unit_price_cents_from_f64(9.999).is_err());
        assert!(unit_price_cents_from_f64(-1.0).is_err());
    }

    #[test]
    fn dates_must_exist() {
        assert!(date_bytes("2024-02-29").is_some());
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-04-31",
            "2024-1-01",
            "24-01-01x",
            "2024/01/01",
        ] {
            assert!(date_bytes(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn quantities_are_whole_and_capped() {
        assert_eq!(quantity("42").unwrap(), 42);
        assert!(quantity("-1").is_err());
        assert!(quantity("1.5").is_err());
        assert!(Row::new("2024-01-01", "EU", "W", MAX_QUANTITY + 1, 1).is_err());
        assert!(matches!(
            Row::new("2024-01-01", " ", "W", 1, 1),
            Err(Problem::Empty { column: "region" })
        ));
    }
}
