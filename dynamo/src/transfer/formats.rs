//! The files of an import or export: compression, DynamoDB JSON lines, CSV.
//!
//! * DynamoDB JSON — one `{"Item": {…}}` per item, each an item in DynamoDB's wire form. An
//!   export writes one per line; an import reads any sequence of them (newlines or not between
//!   them, as DynamoDB does).
//! * CSV — a header row (or `HeaderList`), then one item per row. As DynamoDB documents, the
//!   key attributes take the types the table defines for them and every other value is a
//!   string; an empty field is an absent attribute.
//! * Compression — `NONE`, `GZIP` or `ZSTD` for an import's source files; an export writes
//!   gzip (`.json.gz`), as DynamoDB does.
//!
//! A source file is read as a stream (the engine's [`records`] readers), record by record:
//! an import holds one record and one batch of items, whatever the file's size.

use std::io::{Read, Write};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use seedbed_engine::records::{self, RecordError};
use seedbed_engine::table::schema::KeyAttr;
use seedbed_engine::table::{AttributeValue, Item, Number};
use serde_json::Value;

use crate::wire;

/// The longest record of a source file (a DynamoDB JSON value, a CSV row): an item is at most
/// 400 KB, so a longer record is an error, counted and not held (an unclosed quote would
/// otherwise make the rest of a file one record).
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// Bytes read at a time while looking for DynamoDB JSON records.
const JSON_READ: usize = 1 << 20;

/// An import source file's compression (`InputCompressionType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// As is.
    None,
    /// gzip.
    Gzip,
    /// Zstandard.
    Zstd,
}

impl Compression {
    /// The name DynamoDB gives it.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "NONE",
            Compression::Gzip => "GZIP",
            Compression::Zstd => "ZSTD",
        }
    }

    /// From DynamoDB's name.
    pub fn parse(s: &str) -> Option<Compression> {
        match s {
            "NONE" => Some(Compression::None),
            "GZIP" => Some(Compression::Gzip),
            "ZSTD" => Some(Compression::Zstd),
            _ => None,
        }
    }

    /// A source file's bytes, uncompressed as they are read.
    pub fn reader<'a>(self, src: Box<dyn Read + 'a>) -> Result<Box<dyn Read + 'a>, String> {
        Ok(match self {
            Compression::None => src,
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(src)),
            Compression::Zstd => Box::new(
                zstd::stream::read::Decoder::new(src)
                    .map_err(|e| format!("cannot start reading zstd: {e}"))?,
            ),
        })
    }
}

/// What one record of a source file became.
pub type Parsed = Result<Item, String>;

/// A reader's failure as the last record of a file: nothing after it can be told apart.
fn ended<E>(e: RecordError<E>, what: &str) -> String {
    match e {
        RecordError::Read(io) => format!("the file could not be read: {io}"),
        RecordError::Syntax {
            record, message, ..
        } => format!("not {what} (record {record}): {message}"),
        RecordError::TooLong { limit } => {
            format!("a record is longer than {limit} bytes (an item is at most 400 KB)")
        }
        // `each` never fails.
        RecordError::Stopped(_) => String::new(),
    }
}

/// Each item of a DynamoDB JSON file in turn (`{"Item": {…}}`), to `each`. A syntax or read
/// error ends the file, as its last record.
pub fn dynamodb_json(src: &mut dyn Read, each: &mut dyn FnMut(Parsed)) {
    let read = records::json_values::<Value, ()>(src, JSON_READ, MAX_RECORD_BYTES, |_, v| {
        each(match v.get("Item") {
            Some(item) if v.as_object().is_some_and(|o| o.len() == 1) => {
                wire::item_from_value(item)
                    .map_err(|e| e.message().unwrap_or("not an item").to_string())
            }
            _ => Err("a DynamoDB JSON record is an object with one member, \"Item\"".into()),
        });
        Ok(true)
    });
    if let Err(e) = read {
        each(Err(ended(e, "DynamoDB JSON")));
    }
}

/// The items of a CSV file, with `delimiter` and the column names `header` (or the file's
/// first row), to `each`. `keys` are the table's key attributes, typed as the table defines
/// them. A syntax or read error ends the file, as its last record.
pub fn csv(
    src: &mut dyn Read,
    delimiter: u8,
    header: Option<&[String]>,
    keys: &[KeyAttr],
    each: &mut dyn FnMut(Parsed),
) {
    let mut builder = csv::ReaderBuilder::new();
    builder
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true);
    let mut names: Option<Vec<String>> = header.map(<[String]>::to_vec);
    let read = records::csv_records::<()>(&builder, src, MAX_RECORD_BYTES, |row, _, rec| {
        let Some(cols) = &names else {
            names = Some(rec.iter().map(String::from).collect());
            return Ok(true);
        };
        each(csv_item(row, rec, cols, keys));
        Ok(true)
    });
    if let Err(e) = read {
        each(Err(ended(e, "CSV")));
    }
}

/// One CSV row as an item.
fn csv_item(row: u64, rec: &csv::StringRecord, cols: &[String], keys: &[KeyAttr]) -> Parsed {
    if rec.len() > cols.len() {
        return Err(format!(
            "CSV row {row}: {} fields, but the header names {} columns",
            rec.len(),
            cols.len()
        ));
    }
    let mut item = Item::new();
    for (name, field) in cols.iter().zip(rec.iter()) {
        if field.is_empty() {
            continue;
        }
        let value = match keys.iter().find(|k| &k.name == name).map(|k| k.ty.as_str()) {
            Some("N") => field
                .parse::<Number>()
                .map(AttributeValue::N)
                .map_err(|e| format!("CSV row {row}: key attribute {name}: {e}")),
            Some("B") => STANDARD
                .decode(field)
                .map(AttributeValue::B)
                .map_err(|e| format!("CSV row {row}: key attribute {name} is not base64: {e}")),
            _ => Ok(AttributeValue::S(field.to_string())),
        }?;
        item.insert(name.clone(), value);
    }
    Ok(item)
}

/// An export's data file: items as DynamoDB JSON lines, gzip-compressed.
pub struct GzipLines {
    gz: flate2::write::GzEncoder<Vec<u8>>,
    /// Items written.
    pub items: u64,
    /// Uncompressed bytes written.
    pub bytes: u64,
}

impl Default for GzipLines {
    fn default() -> Self {
        GzipLines {
            gz: flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default()),
            items: 0,
            bytes: 0,
        }
    }
}

impl GzipLines {
    /// Add one item.
    pub fn push(&mut self, item: &Item) {
        let mut line = serde_json::to_vec(&serde_json::json!({ "Item": wire::item_to_json(item) }))
            .unwrap_or_default();
        line.push(b'\n');
        // Writing into a `Vec` cannot fail.
        let _ = self.gz.write_all(&line);
        self.items += 1;
        self.bytes += line.len() as u64;
    }

    /// The compressed file.
    pub fn finish(self) -> Vec<u8> {
        self.gz.finish().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seedbed_engine::table::schema::KeyAttr;

    fn json_items(mut src: &[u8]) -> Vec<Parsed> {
        let mut out = Vec::new();
        dynamodb_json(&mut src, &mut |p| out.push(p));
        out
    }

    #[test]
    fn dynamodb_json_reads_values_with_or_without_newlines() {
        let src = br#"{"Item":{"pk":{"S":"a"}}}
{"Item":{"pk":{"S":"b"}}}{"Item":{"pk":{"S":"c"}}}"#;
        let items = json_items(src);
        assert_eq!(items.len(), 3);
        assert!(items.iter().all(Result::is_ok));
        let bad = json_items(br#"{"pk":{"S":"a"}} {"Item":{"pk":{"S":"b"}}} {"#);
        assert!(bad[0].is_err(), "a record without Item is refused");
        assert!(bad[1].is_ok());
        assert!(bad[2].as_ref().unwrap_err().contains("not DynamoDB JSON"));
    }

    #[test]
    fn csv_types_keys_and_leaves_other_values_strings() {
        let keys = [
            KeyAttr {
                name: "id".into(),
                ty: "N".into(),
            },
            KeyAttr {
                name: "blob".into(),
                ty: "B".into(),
            },
        ];
        let src = b"id;blob;name;n\n10;AAE=;alice;3\n-2;;\"b;ob\";\nx;;c;\n";
        let mut items = Vec::new();
        csv(&mut &src[..], b';', None, &keys, &mut |p| items.push(p));
        assert_eq!(items.len(), 3);
        let first = items[0].as_ref().unwrap();
        assert_eq!(first["id"], AttributeValue::N("10".parse().unwrap()));
        assert_eq!(first["blob"], AttributeValue::B(vec![0, 1]));
        assert_eq!(first["n"], AttributeValue::S("3".into()));
        let second = items[1].as_ref().unwrap();
        assert_eq!(second["name"], AttributeValue::S("b;ob".into()));
        assert!(!second.contains_key("blob") && !second.contains_key("n"));
        assert!(items[2].as_ref().unwrap_err().contains("key attribute id"));
    }

    #[test]
    fn an_export_file_reads_back_through_the_import_reader() {
        let mut f = GzipLines::default();
        let mut item = Item::new();
        item.insert("pk".into(), AttributeValue::S("u1".into()));
        item.insert("b".into(), AttributeValue::B(b"bar".to_vec()));
        f.push(&item);
        f.push(&item);
        let gz = f.finish();
        let mut back = Vec::new();
        let mut plain = Compression::Gzip.reader(Box::new(&gz[..])).unwrap();
        dynamodb_json(&mut plain, &mut |p| back.push(p));
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].as_ref().unwrap(), &item);
        let mut bad = Vec::new();
        let mut plain = Compression::Gzip.reader(Box::new(&b"plain"[..])).unwrap();
        dynamodb_json(&mut plain, &mut |p| bad.push(p));
        assert!(
            bad[0].as_ref().unwrap_err().contains("could not be read"),
            "{bad:?}"
        );
    }
}
