//! DynamoDB's capacity-unit rules, metered per request so `ReturnConsumedCapacity` reports what
//! DynamoDB would have charged:
//!
//! * read: one unit per started 4 KB of the item (GetItem; a missing item costs one), half for
//!   an eventually consistent read; Query and Scan add up the sizes of every item *evaluated*
//!   (before the filter) and round the total up once;
//! * write: one unit per started 1 KB of the larger of the old and new item (at least one);
//! * index writes: each index entry put or deleted costs one unit per started 1 KB of its
//!   projected item; a changed index key costs a delete and a put;
//! * transactions: twice the units of the same reads or writes.

use std::collections::BTreeMap;

use super::request::{ConsumedCapacity, ReturnCapacity};
use super::schema::IndexDef;

/// Read units for `bytes` read at once.
pub fn read_units(bytes: usize, consistent: bool) -> f64 {
    let units = bytes.div_ceil(4096).max(1) as f64;
    if consistent {
        units
    } else {
        units / 2.0
    }
}

/// Write units for an item (or index entry) of `bytes`.
pub fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

/// Capacity consumed on one table during one request.
#[derive(Clone, Debug, Default)]
pub struct Meter {
    table: String,
    read: f64,
    write: f64,
    table_units: f64,
    lsi: BTreeMap<String, f64>,
    gsi: BTreeMap<String, f64>,
}

impl Meter {
    /// A meter for `table`.
    pub fn new(table: &str) -> Self {
        Meter {
            table: table.to_string(),
            ..Meter::default()
        }
    }

    /// Charge table reads.
    pub fn table_read(&mut self, units: f64) {
        self.read += units;
        self.table_units += units;
    }

    /// Charge table writes.
    pub fn table_write(&mut self, units: f64) {
        self.write += units;
        self.table_units += units;
    }

    fn index_units(&mut self, ix: &IndexDef) -> &mut f64 {
        let map = if ix.local {
            &mut self.lsi
        } else {
            &mut self.gsi
        };
        map.entry(ix.name.clone()).or_insert(0.0)
    }

    /// Charge reads of an index.
    pub fn index_read(&mut self, ix: &IndexDef, units: f64) {
        self.read += units;
        *self.index_units(ix) += units;
    }

    /// Charge writes of an index.
    pub fn index_write(&mut self, ix: &IndexDef, units: f64) {
        self.write += units;
        *self.index_units(ix) += units;
    }

    /// Double everything (transactions).
    pub fn double(&mut self) {
        self.read *= 2.0;
        self.write *= 2.0;
        self.table_units *= 2.0;
        self.lsi.values_mut().for_each(|v| *v *= 2.0);
        self.gsi.values_mut().for_each(|v| *v *= 2.0);
    }

    /// Add another meter of the same table.
    pub fn absorb(&mut self, other: Meter) {
        self.read += other.read;
        self.write += other.write;
        self.table_units += other.table_units;
        for (k, v) in other.lsi {
            *self.lsi.entry(k).or_insert(0.0) += v;
        }
        for (k, v) in other.gsi {
            *self.gsi.entry(k).or_insert(0.0) += v;
        }
    }

    /// What `ReturnConsumedCapacity` asks to see.
    pub fn report(self, mode: ReturnCapacity) -> Option<ConsumedCapacity> {
        let detail = match mode {
            ReturnCapacity::None => return None,
            ReturnCapacity::Total => false,
            ReturnCapacity::Indexes => true,
        };
        Some(ConsumedCapacity {
            table: self.table,
            total: self.read + self.write,
            read: self.read,
            write: self.write,
            table_units: detail.then_some(self.table_units),
            lsi: if detail { self.lsi } else { BTreeMap::new() },
            gsi: if detail { self.gsi } else { BTreeMap::new() },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(read_units(0, true), 1.0);
        assert_eq!(read_units(4096, true), 1.0);
        assert_eq!(read_units(4097, false), 1.0);
        assert_eq!(read_units(9000, false), 1.5);
        assert_eq!(write_units(1), 1.0);
        assert_eq!(write_units(1025), 2.0);
    }
}
