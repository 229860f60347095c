//! Shared by the tests and the bench: generated sales data, with the totals the report must show computed here, in Rust.

use std::collections::BTreeMap;

pub const REGIONS: [&str; 4] = ["North", "South", "East", "West"];
/// One name with a comma (quoted in CSV) and one with a quote (escaped in
/// both formats).
pub const PRODUCTS: [&str; 5] = [
    "Widget",
    "Gadget",
    "Gizmo, large",
    "Doohickey",
    "The \"Pro\"",
];

pub struct Sale {
    pub date: String,
    pub region: &'static str,
    pub product: &'static str,
    pub quantity: u64,
    pub unit_price_cents: u64,
}

/// `n` deterministic pseudo-random sales in 2024.
pub fn sales(n: usize) -> Vec<Sale> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |bound: u64| {
        // xorshift64: reproducible, no dependency.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % bound
    };
    (0..n)
        .map(|_| Sale {
            date: format!("2024-{:02}-{:02}", next(12) + 1, next(28) + 1),
            region: REGIONS[next(4) as usize],
            product: PRODUCTS[next(5) as usize],
            quantity: next(50) + 1,
            unit_price_cents: next(100_000) + 1,
        })
        .collect()
}

fn price(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

pub fn to_csv(sales: &[Sale]) -> String {
    let mut out = String::from("date,region,product,quantity,unit_price\n");
    for s in sales {
        let product = if s.product.contains([',', '"']) {
            format!("\"{}\"", s.product.replace('"', "\"\""))
        } else {
            s.product.to_owned()
        };
        let line = format!(
            "{},{},{product},{},{}\n",
            s.date,
            s.region,
            s.quantity,
            price(s.unit_price_cents)
        );
        out.push_str(&line);
    }
    out
}

/// Prices alternate between JSON numbers and strings: both are accepted.
pub fn to_ndjson(sales: &[Sale]) -> String {
    let mut out = String::new();
    for (i, s) in sales.iter().enumerate() {
        let unit_price = if i % 2 == 0 {
            serde_json::json!(s.unit_price_cents as f64 / 100.0)
        } else {
            serde_json::json!(price(s.unit_price_cents))
        };
        let line = serde_json::json!({
            "date": s.date,
            "region": s.region,
            "product": s.product,
            "quantity": s.quantity,
            "unit_price": unit_price,
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

/// What the report must say, computed independently of the function.
pub struct Expected {
    pub quantity: u64,
    pub revenue_cents: u64,
    pub first_date: String,
    pub last_date: String,
    pub revenue_by_region: BTreeMap<&'static str, u64>,
    pub quantity_by_product: BTreeMap<&'static str, u64>,
}

pub fn expected(sales: &[Sale]) -> Expected {
    let mut e = Expected {
        quantity: 0,
        revenue_cents: 0,
        first_date: sales.iter().map(|s| s.date.clone()).min().unwrap(),
        last_date: sales.iter().map(|s| s.date.clone()).max().unwrap(),
        revenue_by_region: BTreeMap::new(),
        quantity_by_product: BTreeMap::new(),
    };
    for s in sales {
        let revenue = s.quantity * s.unit_price_cents;
        e.quantity += s.quantity;
        e.revenue_cents += revenue;
        *e.revenue_by_region.entry(s.region).or_default() += revenue;
        *e.quantity_by_product.entry(s.product).or_default() += s.quantity;
    }
    e
}
