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

use std::io::{Read, Write};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use seedbed_engine::table::schema::KeyAttr;
use seedbed_engine::table::{AttributeValue, Item, Number};
use serde_json::Value;

use crate::wire;

/// The largest source file an import reads (stored, and after decompression): each file is
/// held in memory whole while its items are written, so a bigger one is counted as an error,
/// not read. (DynamoDB's own exports write files far smaller.)
pub const MAX_FILE_BYTES: u64 = 1 << 30;

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

    /// The bytes of a source file, uncompressed (at most [`MAX_FILE_BYTES`]).
    pub fn decompress(self, bytes: Vec<u8>) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        let limit = MAX_FILE_BYTES + 1;
        match self {
            Compression::None => return Ok(bytes),
            Compression::Gzip => flate2::read::MultiGzDecoder::new(&bytes[..])
                .take(limit)
                .read_to_end(&mut out)
                .map_err(|e| format!("not a gzip file: {e}"))?,
            Compression::Zstd => zstd::stream::read::Decoder::new(&bytes[..])
                .and_then(|d| d.take(limit).read_to_end(&mut out))
                .map_err(|e| format!("not a zstd file: {e}"))?,
        };
        if out.len() as u64 > MAX_FILE_BYTES {
            return Err(format!(
                "over {} MiB uncompressed, the most an import holds in memory per file",
                MAX_FILE_BYTES >> 20
            ));
        }
        Ok(out)
    }
}

/// What one record of a source file became.
pub type Parsed = Result<Item, String>;

/// The items of a DynamoDB JSON file: each `{"Item": {…}}` in turn. A syntax error ends the
/// file (its message is the last entry): nothing after it can be told apart.
pub fn dynamodb_json(bytes: &[u8]) -> Vec<Parsed> {
    let mut out = Vec::new();
    for v in serde_json::Deserializer::from_slice(bytes).into_iter::<Value>() {
        match v {
            Err(e) => {
                out.push(Err(format!("not DynamoDB JSON: {e}")));
                break;
            }
            Ok(v) => out.push(match v.get("Item") {
                Some(item) if v.as_object().is_some_and(|o| o.len() == 1) => {
                    wire::item_from_value(item)
                        .map_err(|e| e.message().unwrap_or("not an item").to_string())
                }
                _ => Err("a DynamoDB JSON record is an object with one member, \"Item\"".into()),
            }),
        }
    }
    out
}

/// The items of a CSV file, with `delimiter` and the column names `header` (or the file's
/// first row). `keys` are the table's key attributes, typed as the table defines them.
pub fn csv(
    bytes: &[u8],
    delimiter: u8,
    header: Option<&[String]>,
    keys: &[KeyAttr],
) -> Vec<Parsed> {
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut names: Option<Vec<String>> = header.map(<[String]>::to_vec);
    let mut out = Vec::new();
    for (row, rec) in r.records().enumerate() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                out.push(Err(format!("CSV row {}: {e}", row + 1)));
                break;
            }
        };
        let Some(cols) = &names else {
            names = Some(rec.iter().map(String::from).collect());
            continue;
        };
        if rec.len() > cols.len() {
            out.push(Err(format!(
                "CSV row {}: {} fields, but the header names {} columns",
                row + 1,
                rec.len(),
                cols.len()
            )));
            continue;
        }
        let mut item = Item::new();
        let mut bad = None;
        for (name, field) in cols.iter().zip(rec.iter()) {
            if field.is_empty() {
                continue;
            }
            let value = match keys.iter().find(|k| &k.name == name).map(|k| k.ty.as_str()) {
                Some("N") => field
                    .parse::<Number>()
                    .map(AttributeValue::N)
                    .map_err(|e| format!("key attribute {name}: {e}")),
                Some("B") => STANDARD
                    .decode(field)
                    .map(AttributeValue::B)
                    .map_err(|e| format!("key attribute {name} is not base64: {e}")),
                _ => Ok(AttributeValue::S(field.to_string())),
            };
            match value {
                Ok(v) => {
                    item.insert(name.clone(), v);
                }
                Err(e) => bad = Some(format!("CSV row {}: {e}", row + 1)),
            }
        }
        out.push(match bad {
            Some(e) => Err(e),
            None => Ok(item),
        });
    }
    out
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

    #[test]
    fn dynamodb_json_reads_values_with_or_without_newlines() {
        let src = br#"{"Item":{"pk":{"S":"a"}}}
{"Item":{"pk":{"S":"b"}}}{"Item":{"pk":{"S":"c"}}}"#;
        let items = dynamodb_json(src);
        assert_eq!(items.len(), 3);
        assert!(items.iter().all(Result::is_ok));
        let bad = dynamodb_json(br#"{"pk":{"S":"a"}} {"Item":{"pk":{"S":"b"}}} {"#);
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
        let items = csv(src, b';', None, &keys);
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
        let plain = Compression::Gzip.decompress(gz).unwrap();
        let back = dynamodb_json(&plain);
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].as_ref().unwrap(), &item);
        assert!(Compression::Gzip.decompress(b"plain".to_vec()).is_err());
    }
}
