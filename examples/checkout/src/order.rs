//! The order a client sends, its validation, and the order we store.

use serde::{Deserialize, Serialize};

/// The most units of one item per order.
pub const MAX_QUANTITY: i64 = 100;
/// The most line items per order.
pub const MAX_ITEMS: usize = 50;

/// `POST /orders` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewOrder {
    /// What to buy.
    pub items: Vec<LineItem>,
    /// Where the receipt goes.
    pub email: String,
    /// A card token from the payment provider's client library (`tok_...`).
    pub payment_token: String,
}

/// One line of a [`NewOrder`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineItem {
    /// The product's stock-keeping unit.
    pub sku: String,
    /// How many; signed so that `-1` gets our message, not serde's.
    pub quantity: i64,
}

impl NewOrder {
    /// Checks everything that needs no lookup; the error says exactly what
    /// is wrong, in terms of the JSON the client sent.
    pub fn validate(&self) -> Result<(), String> {
        if self.items.is_empty() {
            return Err("items must not be empty".into());
        }
        if self.items.len() > MAX_ITEMS {
            return Err(format!("items must have at most {MAX_ITEMS} entries"));
        }
        for (i, item) in self.items.iter().enumerate() {
            if item.sku.trim().is_empty() {
                return Err(format!("items[{i}].sku must not be empty"));
            }
            if !(1..=MAX_QUANTITY).contains(&item.quantity) {
                return Err(format!(
                    "items[{i}].quantity must be between 1 and {MAX_QUANTITY}"
                ));
            }
            if let Some(first) = self.items[..i].iter().position(|o| o.sku == item.sku) {
                return Err(format!(
                    "items[{i}].sku {:?} repeats items[{first}]; add the quantities instead",
                    item.sku
                ));
            }
        }
        if !is_plausible_email(&self.email) {
            return Err(format!("email {:?} is not a valid address", self.email));
        }
        if !self.payment_token.starts_with("tok_") || self.payment_token.len() > 255 {
            return Err("payment_token must be a card token starting with `tok_`".into());
        }
        Ok(())
    }
}

/// `local@domain.tld`, no spaces: the provider does the real check by
/// sending mail; this catches typos early.
pub fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    email.len() <= 254
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A catalog entry, kv `product:<sku>`, e.g.
/// `{"name":"T-shirt","price_cents":1500}` (`name` may be left out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// Display name; empty when the catalog gives none.
    #[serde(default)]
    pub name: String,
    /// Unit price in US cents.
    pub price_cents: u64,
}

/// A stored order, kv `order:<id>`; also the body of `GET /orders/<id>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// `ord_` and 16 hex digits.
    pub id: String,
    /// What was bought, at the price charged.
    pub items: Vec<OrderLine>,
    /// The buyer's address.
    pub email: String,
    /// What was charged, in cents.
    pub total_cents: u64,
    /// Always `usd`.
    pub currency: String,
    /// The provider's payment id (`pi_...`).
    pub payment_id: String,
    /// `paid`.
    pub status: String,
}

/// One line of an [`Order`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    /// The product's stock-keeping unit.
    pub sku: String,
    /// The product's name when it was bought.
    pub name: String,
    /// How many.
    pub quantity: u64,
    /// Unit price when it was bought.
    pub price_cents: u64,
}

/// A fresh order id from the host's secure random source.
pub fn new_id() -> String {
    let hex: String = fnsdk::random::bytes(8)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("ord_{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(items: &[(&str, i64)]) -> NewOrder {
        NewOrder {
            items: items
                .iter()
                .map(|&(sku, quantity)| LineItem {
                    sku: sku.into(),
                    quantity,
                })
                .collect(),
            email: "ada@example.com".into(),
            payment_token: "tok_visa".into(),
        }
    }

    #[test]
    fn errors_name_the_offending_field() {
        assert_eq!(order(&[("a", 1), ("b", 2)]).validate(), Ok(()));
        assert_eq!(
            order(&[]).validate().unwrap_err(),
            "items must not be empty"
        );
        assert_eq!(
            order(&[("a", 1), ("b", 0)]).validate().unwrap_err(),
            "items[1].quantity must be between 1 and 100"
        );
        assert_eq!(
            order(&[("a", 101)]).validate().unwrap_err(),
            "items[0].quantity must be between 1 and 100"
        );
        assert!(
            order(&[("a", 1), ("a", 1)])
                .validate()
                .unwrap_err()
                .starts_with("items[1].sku \"a\" repeats items[0]")
        );
        let mut bad_token = order(&[("a", 1)]);
        bad_token.payment_token = "4242424242424242".into();
        assert!(bad_token.validate().unwrap_err().contains("tok_"));
    }

    #[test]
    fn emails() {
        for good in ["a@b.co", "first.last+tag@mail.example.org"] {
            assert!(is_plausible_email(good), "{good}");
        }
        for bad in [
            "", "ada", "@b.co", "a@b", "a@.co", "a@b.", "a b@c.de", "a@b@c.de",
        ] {
            assert!(!is_plausible_email(bad), "{bad}");
        }
    }

    #[test]
    fn ids_are_prefixed_hex() {
        let id = new_id();
        assert_eq!(id.len(), 20);
        assert!(id.starts_with("ord_"));
        assert!(id[4..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(id, new_id());
    }
}
