//! The running totals of one upload, and the report they become.

use std::collections::HashMap;

use serde::Serialize;

use crate::row::{Problem, Row};

/// How many malformed rows are reported with their line and reason.
pub const MALFORMED_SAMPLES: usize = 10;

/// Distinct regions (and, separately, products) tracked one by one; rows
/// beyond are summed under [`OTHER`], so a column of unique values cannot
/// blow up memory or the stored report.
const MAX_GROUPS: usize = 1_000;
const OTHER: &str = "(other)";

/// Accumulates rows in one pass. Allocates only for a region or product it
/// has not seen before, and for the first few malformed rows.
#[derive(Default)]
pub struct Aggregator {
    rows: u64,
    malformed: u64,
    samples: Vec<Malformed>,
    first_date: Option<[u8; 10]>,
    last_date: Option<[u8; 10]>,
    quantity: Stats,
    unit_price: Stats,
    revenue: Stats,
    by_region: HashMap<Box<str>, Group>,
    by_product: HashMap<Box<str>, Group>,
}

#[derive(Serialize)]
pub struct Malformed {
    pub line: u64,
    pub reason: String,
}

/// Min, max and sum of one numeric measure.
#[derive(Default, Clone, Copy)]
struct Stats {
    min: u64,
    max: u64,
    sum: u128,
}

#[derive(Default, Clone, Copy)]
struct Group {
    rows: u64,
    quantity: u128,
    revenue_cents: u128,
}

impl Stats {
    fn add(&mut self, value: u64, first: bool) {
        if first {
            (self.min, self.max) = (value, value);
        } else {
            self.min = self.min.min(value);
            self.max = self.max.max(value);
        }
        self.sum += u128::from(value);
    }

    fn summary(&self, rows: u64) -> StatsSummary {
        StatsSummary {
            total: self.sum,
            min: self.min,
            max: self.max,
            mean: if rows == 0 {
                0.0
            } else {
                // Two decimals are plenty for a mean, and keep it stable.
                ((self.sum as f64 / rows as f64) * 100.0).round() / 100.0
            },
        }
    }
}

impl Aggregator {
    pub fn add(&mut self, row: Row<'_>) {
        let first = self.rows == 0;
        self.rows += 1;
        let revenue = row.revenue_cents();
        self.quantity.add(row.quantity, first);
        self.unit_price.add(row.unit_price_cents, first);
        self.revenue.add(revenue, first);
        self.first_date = Some(self.first_date.map_or(row.date, |d| d.min(row.date)));
        self.last_date = Some(self.last_date.map_or(row.date, |d| d.max(row.date)));
        for (groups, key) in [
            (&mut self.by_region, row.region),
            (&mut self.by_product, row.product),
        ] {
            let group = group_for(groups, key);
            group.rows += 1;
            group.quantity += u128::from(row.quantity);
            group.revenue_cents += u128::from(revenue);
        }
    }

    /// Counts a rejected row; keeps its line and reason if it is among the
    /// first [`MALFORMED_SAMPLES`].
    pub fn reject(&mut self, line: u64, problem: Problem) {
        self.malformed += 1;
        if self.samples.len() < MALFORMED_SAMPLES {
            self.samples.push(Malformed {
                line,
                reason: problem.to_string(),
            });
        }
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn malformed(&self) -> u64 {
        self.malformed
    }

    pub fn samples(&self) -> &[Malformed] {
        &self.samples
    }

    pub fn finish(self, dataset: &str, format: &'static str) -> Report {
        let day = |d: Option<[u8; 10]>| d.map(|d| String::from_utf8_lossy(&d).into_owned());
        Report {
            dataset: dataset.to_owned(),
            format,
            rows: self.rows,
            malformed_rows: self.malformed,
            malformed_samples: self.samples,
            first_date: day(self.first_date),
            last_date: day(self.last_date),
            quantity: self.quantity.summary(self.rows),
            unit_price_cents: self.unit_price.summary(self.rows),
            revenue_cents: self.revenue.summary(self.rows),
            by_region: ranked(self.by_region),
            by_product: ranked(self.by_product),
        }
    }
}

/// The group for `key`, allocating its name only the first time it is seen.
fn group_for<'m>(groups: &'m mut HashMap<Box<str>, Group>, key: &str) -> &'m mut Group {
    // `entry` would need an owned key on every row: look up by `&str` first
    // and allocate only on a miss.
    let key = if groups.contains_key(key) || groups.len() < MAX_GROUPS {
        key
    } else {
        OTHER
    };
    if !groups.contains_key(key) {
        groups.insert(key.into(), Group::default());
    }
    groups.get_mut(key).expect("inserted above")
}

/// Groups by revenue, highest first (ties by name, so reports are stable).
fn ranked(groups: HashMap<Box<str>, Group>) -> Vec<GroupSummary> {
    let mut ranked: Vec<GroupSummary> = groups
        .into_iter()
        .map(|(name, g)| GroupSummary {
            name: name.into(),
            rows: g.rows,
            quantity: g.quantity,
            revenue_cents: g.revenue_cents,
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.revenue_cents
            .cmp(&a.revenue_cents)
            .then_with(|| a.name.cmp(&b.name))
    });
    ranked
}

/// What `GET /datasets/<name>/report` returns. Money is in cents.
#[derive(Serialize)]
pub struct Report {
    pub dataset: String,
    pub format: &'static str,
    pub rows: u64,
    pub malformed_rows: u64,
    pub malformed_samples: Vec<Malformed>,
    pub first_date: Option<String>,
    pub last_date: Option<String>,
    pub quantity: StatsSummary,
    pub unit_price_cents: StatsSummary,
    pub revenue_cents: StatsSummary,
    pub by_region: Vec<GroupSummary>,
    pub by_product: Vec<GroupSummary>,
}

#[derive(Serialize)]
pub struct StatsSummary {
    pub total: u128,
    pub min: u64,
    pub max: u64,
    pub mean: f64,
}

#[derive(Serialize)]
pub struct GroupSummary {
    pub name: String,
    pub rows: u64,
    pub quantity: u128,
    pub revenue_cents: u128,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_groups_and_date_range() {
        let mut agg = Aggregator::default();
        agg.add(Row::new("2024-03-02", "EU", "Widget", 2, 150).unwrap());
        agg.add(Row::new("2024-01-15", "US", "Widget", 1, 1000).unwrap());
        agg.add(Row::new("2024-02-01", "EU", "Gadget", 4, 25).unwrap());
        agg.reject(7, Problem::Date);
        let report = agg.finish("q1", "csv");
        assert_eq!(report.rows, 3);
        assert_eq!(report.malformed_rows, 1);
        assert_eq!(report.malformed_samples[0].line, 7);
        assert_eq!(report.first_date.as_deref(), Some("2024-01-15"));
        assert_eq!(report.last_date.as_deref(), Some("2024-03-02"));
        assert_eq!(report.quantity.total, 7);
        assert_eq!((report.quantity.min, report.quantity.max), (1, 4));
        assert_eq!(report.revenue_cents.total, 300 + 1000 + 100);
        assert_eq!(report.revenue_cents.mean, 466.67);
        let names: Vec<&str> = report.by_region.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["US", "EU"]);
        assert_eq!(report.by_product[0].name, "Widget");
        assert_eq!(report.by_product[0].quantity, 3);
    }

    #[test]
    fn groups_past_the_cap_are_summed_as_other() {
        let mut agg = Aggregator::default();
        for i in 0..MAX_GROUPS + 5 {
            let product = format!("p{i}");
            agg.add(Row::new("2024-01-01", "EU", &product, 1, 1).unwrap());
        }
        let report = agg.finish("many", "csv");
        assert_eq!(report.by_product.len(), MAX_GROUPS + 1);
        let other = report.by_product.iter().find(|g| g.name == OTHER).unwrap();
        assert_eq!(other.rows, 5);
    }
}
