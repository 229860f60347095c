//! Reserving stock with nothing but atomic increments.
//!
//! `wasi:keyvalue` offers `increment(key, delta)` with a positive delta and
//! no compare-and-swap, so a unit count cannot be decremented safely. Each
//! pool instead keeps two counters that only ever grow:
//!
//! - `reserved:<sku>`, increased by every attempt to take units, and
//! - `released:<sku>`, increased when an attempt gives its units back
//!   (out of stock, card declined, provider down).
//!
//! Units in use are `reserved - released`; units left are `stock - in use`.
//! A sold unit simply stays reserved.
//!
//! Why this never oversells: an attempt reads `released` *before* its own
//! increment of `reserved`. Every release it saw therefore belongs to an
//! attempt whose reservation had already been counted, so `reserved` (as
//! returned by its increment) minus that `released` is at least the units
//! held by all attempts up to and including this one. Take the units held
//! right now and look at the holder whose increment came last: its check
//! covered every other holder, and it passed, so the total held is at most
//! `stock`. Under contention the estimate errs high (a release that lands
//! between the read and the increment is not seen), so a racing attempt may
//! be refused while a unit was in fact free, but never the other way round.

use fnsdk::kv::{self, Store};

/// A limited resource: the two counters and their key prefixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    reserved: String,
    released: String,
}

impl Pool {
    /// The units of `sku` (`reserved:<sku>`, `released:<sku>`).
    pub fn stock(sku: &str) -> Self {
        Self {
            reserved: format!("reserved:{sku}"),
            released: format!("released:{sku}"),
        }
    }

    /// A pool with a single unit: the right to process one request with
    /// idempotency key `key` (see [`crate::idempotency`]).
    pub fn idempotency_claim(key: &str) -> Self {
        Self {
            reserved: format!("idempotency-claimed:{key}"),
            released: format!("idempotency-released:{key}"),
        }
    }

    /// Takes `quantity` units if `in_use + quantity <= capacity`; returns
    /// whether it did. Units taken must be [`released`](Self::release) or
    /// kept for good.
    pub fn try_take(&self, store: &Store, quantity: u64, capacity: u64) -> Result<bool, kv::Error> {
        // The order of these two lines is what makes it safe; see the module docs.
        let released = store.counter(&self.released)?;
        let reserved = store.increment(&self.reserved, quantity)?;
        if reserved.saturating_sub(released) <= capacity {
            return Ok(true);
        }
        self.release(store, quantity)?;
        Ok(false)
    }

    /// Gives back `quantity` units taken earlier.
    pub fn release(&self, store: &Store, quantity: u64) -> Result<(), kv::Error> {
        store.increment(&self.released, quantity).map(drop)
    }
}

/// Units taken from one or more pools, given back when dropped unless
/// [`keep`](Self::keep) was called: every early return (`?` included)
/// between reserving and recording the order releases them.
#[derive(Debug)]
pub struct Hold<'s> {
    store: &'s Store,
    taken: Vec<(Pool, u64)>,
}

impl<'s> Hold<'s> {
    /// Nothing held yet.
    pub fn new(store: &'s Store) -> Self {
        Self {
            store,
            taken: Vec::new(),
        }
    }

    /// Takes `quantity` units of `pool` (see [`Pool::try_take`]); returns
    /// whether it did.
    pub fn take(&mut self, pool: Pool, quantity: u64, capacity: u64) -> Result<bool, kv::Error> {
        let taken = pool.try_take(self.store, quantity, capacity)?;
        if taken {
            self.taken.push((pool, quantity));
        }
        Ok(taken)
    }

    /// Keeps everything taken: the units are sold (or the claim is done).
    pub fn keep(mut self) {
        self.taken.clear();
    }
}

impl Drop for Hold<'_> {
    fn drop(&mut self) {
        for (pool, quantity) in self.taken.drain(..) {
            if let Err(err) = pool.release(self.store, quantity) {
                // The units stay reserved; an operator can add them to `released:`.
                fnsdk::error!("could not release {quantity} of {}: {err}", pool.reserved);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_up_to_capacity_and_releases_on_drop() {
        let store = Store::open_default().unwrap();
        let tee = Pool::stock("tee");
        assert!(tee.try_take(&store, 3, 5).unwrap());
        assert!(!tee.try_take(&store, 3, 5).unwrap(), "only 2 left");
        {
            let mut hold = Hold::new(&store);
            assert!(hold.take(Pool::stock("tee"), 2, 5).unwrap());
            assert!(!hold.take(Pool::stock("tee"), 1, 5).unwrap());
        } // dropped: the 2 go back
        assert!(tee.try_take(&store, 2, 5).unwrap());
        assert_eq!(store.counter("reserved:tee").unwrap(), 11);
        assert_eq!(store.counter("released:tee").unwrap(), 6);

        let mut kept = Hold::new(&store);
        assert!(kept.take(Pool::stock("mug"), 1, 1).unwrap());
        kept.keep();
        assert!(!Pool::stock("mug").try_take(&store, 1, 1).unwrap());
    }
}
