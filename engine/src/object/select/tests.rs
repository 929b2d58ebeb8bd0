//! The query engine end to end: queries over CSV and JSON objects, errors, the ScanRange,
//! and a property test that nothing panics.

use super::*;

fn run(sql: &str, input: InputFormat, output: OutputFormat, object: &[u8]) -> String {
    run_range(sql, input, output, object, None)
}

fn run_range(
    sql: &str,
    input: InputFormat,
    output: OutputFormat,
    object: &[u8],
    scan_range: Option<(Option<u64>, Option<u64>)>,
) -> String {
    let s = Select::new(SelectRequest {
        expression: sql.into(),
        input,
        compression: Compression::None,
        output,
        scan_range,
    })
    .unwrap();
    String::from_utf8(s.run(object).unwrap().chunks.concat()).unwrap()
}

#[test]
fn a_scan_range_takes_the_records_that_start_in_it() {
    // Records start at byte 14 (ann), 29 ("bob, jr", quoted) and 49 (cat).
    let q = "SELECT s.name FROM S3Object s";
    let names = |r| run_range(q, csv_use(), json(","), CSV, Some(r));
    assert_eq!(names((Some(0), Some(14))), "{\"name\":\"ann\"},");
    assert_eq!(names((Some(15), Some(29))), "{\"name\":\"bob, jr\"},");
    assert_eq!(names((Some(30), None)), "{\"name\":\"cat\"},");
    assert_eq!(names((None, Some(16))), "{\"name\":\"cat\"},");
    assert_eq!(names((Some(15), Some(28))), "");
    let lines = b"{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n";
    assert_eq!(
        run_range(
            "SELECT * FROM S3Object",
            InputFormat::Json,
            json(","),
            lines,
            Some((Some(8), Some(8)))
        ),
        "{\"a\":2},"
    );
    let bad = Select::new(SelectRequest {
        expression: q.into(),
        input: csv_use(),
        compression: Compression::None,
        output: json(","),
        scan_range: Some((Some(9), Some(3))),
    })
    .unwrap();
    assert_eq!(bad.run(CSV).unwrap_err().code, "InvalidScanRange");
}

fn json(delim: &str) -> OutputFormat {
    OutputFormat::Json {
        record: delim.into(),
    }
}

const CSV: &[u8] = b"name,city,age\nann,Seattle,31\n\"bob, jr\",Chicago,7\ncat,Seattle,45\n";

fn csv_use() -> InputFormat {
    InputFormat::Csv(CsvInput {
        header: FileHeader::Use,
        ..CsvInput::default()
    })
}

#[test]
fn csv_filters_projects_and_aggregates() {
    assert_eq!(
        run(
            "SELECT s.name, s.age FROM S3Object s WHERE s.city = 'Seattle'",
            csv_use(),
            json("\n"),
            CSV
        ),
        "{\"name\":\"ann\",\"age\":\"31\"}\n{\"name\":\"cat\",\"age\":\"45\"}\n"
    );
    assert_eq!(
        run(
            "SELECT count(*), sum(CAST(age AS INT)) AS total, max(s._3) FROM S3Object s WHERE CAST(s.age AS INT) > 10",
            csv_use(),
            json(","),
            CSV
        ),
        "{\"_1\":2,\"total\":76,\"_3\":\"45\"},"
    );
    // SELECT * back to CSV: fields quoted only where needed; positional columns without
    // a header (NONE: the header line is a record too).
    let out = OutputFormat::Csv(CsvOutput::default());
    assert_eq!(
        run("SELECT * FROM S3Object", csv_use(), out.clone(), CSV),
        "ann,Seattle,31\n\"bob, jr\",Chicago,7\ncat,Seattle,45\n"
    );
    assert_eq!(
        run(
            "SELECT _1 FROM S3Object WHERE _2 LIKE 'Ch%'",
            InputFormat::Csv(CsvInput::default()),
            out.clone(),
            CSV
        ),
        "\"bob, jr\"\n"
    );
    assert_eq!(
        run(
            "SELECT count(*) FROM S3Object",
            InputFormat::Csv(CsvInput::default()),
            out.clone(),
            CSV
        ),
        "4\n"
    );
    // Ceph RGW's dialect, as far as it costs nothing: a closing `;`, INT() for CAST.
    assert_eq!(
        run(
            "select sum(int(_3)) from s3object where _3 <> 'age';",
            InputFormat::Csv(CsvInput::default()),
            out,
            CSV
        ),
        "83\n"
    );
    assert_eq!(
        run(
            "SELECT s.name FROM S3Object s LIMIT 1",
            csv_use(),
            json("\n"),
            CSV
        ),
        "{\"name\":\"ann\"}\n"
    );
}

#[test]
fn json_paths_missing_values_and_non_object_records() {
    let doc = br#"{"a":{"b0":"s"},"c":"d0"}{"a":{"b1":"s"},"c":"d1","n":[1,2]} [1,2]"#;
    assert_eq!(
        run(
            "select * from s3object[*].a",
            InputFormat::Json,
            json(","),
            doc
        ),
        "{\"b0\":\"s\"},{\"b1\":\"s\"},{},"
    );
    assert_eq!(
        run(
            "select s.c, s.n[1] as second from s3object s where s.c is not missing",
            InputFormat::Json,
            json("\n"),
            doc
        ),
        "{\"c\":\"d0\"}\n{\"c\":\"d1\",\"second\":2}\n"
    );
    // Precedence: * before + and -, left to right; || joins text.
    assert_eq!(
        run(
            "select 1 + 2 * 3 - 4 as x, 7 - 2 - 1 as y, s.c || '!' as z from s3object s limit 1",
            InputFormat::Json,
            json("\n"),
            doc
        ),
        "{\"x\":3,\"y\":4,\"z\":\"d0!\"}\n"
    );
    assert_eq!(
        run(
            "select * from s3object s where s._1[0] = 1",
            InputFormat::Json,
            json("\n"),
            doc
        ),
        "{\"_1\":[1,2]}\n"
    );
}

const WORDS: &[&str] = &[
    "SELECT",
    "select",
    "*",
    "count(*)",
    "sum(",
    "CAST(",
    "AS",
    "INT",
    ")",
    "(",
    ",",
    "FROM",
    "S3Object",
    "s3object[*]",
    "[*]",
    "[0]",
    ".a",
    "s",
    "s.a",
    "s._1",
    "_2",
    "WHERE",
    "=",
    "<>",
    "<",
    ">=",
    "AND",
    "OR",
    "NOT",
    "IS",
    "NULL",
    "MISSING",
    "LIKE",
    "'%x_'",
    "ESCAPE",
    "'!'",
    "BETWEEN",
    "IN",
    "1",
    "-2.5",
    "1e400",
    "'a''b'",
    "\"q\"",
    "||",
    "+",
    "/",
    "0",
    "%",
    "LIMIT",
    "LOWER(",
    "TRIM(",
    "9223372036854775807",
];

proptest::proptest! {
    /// Whatever the query and the object, the answer is records or an error: never a
    /// panic (the query comes from the network, the object from anyone who could write it).
    #[test]
    fn any_query_over_any_object_answers(
        words in proptest::collection::vec(proptest::sample::select(WORDS.to_vec()), 0..16),
        tail in proptest::collection::vec(proptest::sample::select(WORDS.to_vec()), 0..12),
        framed in proptest::bool::ANY,
        object in proptest::collection::vec(proptest::sample::select(vec![
            "{", "}", "[", "]", "\"a\"", ":", ",", "1", "-0.5", "null", "true", "\"x\"",
            "\n", "a,b", "\"q,\"\"\"", "\r\n",
        ]), 0..24),
        csv in proptest::bool::ANY,
    ) {
        let input = if csv {
            InputFormat::Csv(CsvInput { header: FileHeader::Use, ..CsvInput::default() })
        } else {
            InputFormat::Json
        };
        let req = SelectRequest {
            // Half the time a query's frame, so the evaluator is reached, not only the parser.
            expression: if framed {
                format!("SELECT {} FROM S3Object s WHERE {}", words.join(" "), tail.join(" "))
            } else {
                words.join(" ")
            },
            input,
            compression: Compression::None,
            output: OutputFormat::Csv(CsvOutput::default()),
            scan_range: None,
        };
        if let Ok(s) = Select::new(req) {
            let object = object.concat();
            let pruned = s.run(object.as_bytes());
            // Reading only the columns the query names answers as reading them all.
            proptest::prop_assert_eq!(pruned, s.without_pruning().run(object.as_bytes()));
        }
    }
}

#[test]
fn errors_are_s3s_words() {
    let bad = |sql: &str| {
        Select::new(SelectRequest {
            expression: sql.into(),
            input: InputFormat::Json,
            compression: Compression::None,
            output: json("\n"),
            scan_range: None,
        })
        .unwrap_err()
        .code
    };
    assert_eq!(bad("SELECT FROM S3Object"), "ParseUnexpectedToken");
    assert_eq!(
        bad("SELECT count(*), s.a FROM S3Object s"),
        "UnsupportedSyntax"
    );
    assert_eq!(
        bad("SELECT * FROM S3Object WHERE count(*) > 1"),
        "EvaluatorInvalidArguments"
    );
    let s = Select::new(SelectRequest {
        expression: "SELECT * FROM S3Object".into(),
        input: InputFormat::Json,
        compression: Compression::Gzip,
        output: json("\n"),
        scan_range: None,
    })
    .unwrap();
    assert_eq!(
        s.run(b"not gzip").unwrap_err().code,
        "InvalidCompressionFormat"
    );
}

/// Hands out its bytes a few at a time, as a network or a stripe-at-a-time reader may, and
/// counts what was taken.
struct Dribble<'a> {
    bytes: &'a [u8],
    pos: usize,
    step: usize,
    taken: std::rc::Rc<std::cell::Cell<usize>>,
}

impl<'a> Dribble<'a> {
    fn new(bytes: &'a [u8], step: usize) -> Self {
        Dribble {
            bytes,
            pos: 0,
            step,
            taken: Default::default(),
        }
    }
}

impl std::io::Read for Dribble<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let rest = &self.bytes[self.pos.min(self.bytes.len())..];
        let n = buf.len().min(self.step).min(rest.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        self.taken.set(self.taken.get() + n);
        Ok(n)
    }
}

impl std::io::Seek for Dribble<'_> {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        let std::io::SeekFrom::Start(n) = to else {
            unreachable!("the query seeks from the start")
        };
        self.pos = n as usize;
        Ok(n)
    }
}

fn streamed(s: &Select, object: &[u8], step: usize) -> Result<(String, Counts), SelectError> {
    let mut collect = Collect::default();
    let mut src = Dribble::new(object, step);
    let counts = s.run_stream(&mut src, object.len() as u64, &mut collect)?;
    Ok((String::from_utf8(collect.0.concat()).unwrap(), counts))
}

fn select(sql: &str, input: InputFormat, compression: Compression) -> Select {
    Select::new(SelectRequest {
        expression: sql.into(),
        input,
        compression,
        output: json("\n"),
        scan_range: None,
    })
    .unwrap()
}

proptest::proptest! {
    /// Read through a window of any size, in pieces of any size, a query answers exactly
    /// what it answers over the object in memory: no record is lost, cut or read twice where
    /// a read or the window ends (numbers, strings, nested values, white space).
    #[test]
    fn streaming_answers_as_the_object_in_memory(
        records in proptest::collection::vec(proptest::sample::select(vec![
            "{\"a\":1}", "{\"a\":-12.5e3}", "{\"a\":\"x y\"}", "{\"a\":[1,[2,{\"b\":3}]]}",
            "123456", "\"s\"", "true", "null", "[]", "{\"a\":{\"b\":\"\\u00e9\\\"\"}}",
        ]), 0..40),
        gaps in proptest::collection::vec(proptest::sample::select(vec![" ", "\n", "\r\n", "\t "]), 40),
        window in 1usize..24,
        step in 1usize..9,
    ) {
        let mut doc = String::new();
        for (r, g) in records.iter().zip(&gaps) {
            doc.push_str(r);
            doc.push_str(g);
        }
        let s = select("SELECT * FROM S3Object", InputFormat::Json, Compression::None);
        let whole = s.run(doc.as_bytes()).map(|o| String::from_utf8(o.chunks.concat()).unwrap());
        let s = s.with_json_read(window);
        let (got, counts) = streamed(&s, doc.as_bytes(), step).unwrap();
        proptest::prop_assert_eq!(Ok(got), whole);
        proptest::prop_assert_eq!(counts.scanned, doc.len() as u64);
        let csv = doc.replace(['{', '}', '[', ']', ':'], ",");
        let s = select("SELECT * FROM S3Object", InputFormat::Csv(CsvInput::default()), Compression::None);
        let whole = s.run(csv.as_bytes()).map(|o| String::from_utf8(o.chunks.concat()).unwrap());
        proptest::prop_assert_eq!(streamed(&s, csv.as_bytes(), step).map(|r| r.0), whole);
    }
}

#[test]
fn a_record_over_the_limit_is_refused_not_held() {
    // An unclosed quote makes the rest of the object one field.
    let mut csv = b"a,b\n1,\"".to_vec();
    csv.extend(std::iter::repeat_n(b'x', 100_000));
    let s = select(
        "SELECT * FROM S3Object",
        InputFormat::Csv(CsvInput::default()),
        Compression::None,
    )
    .with_max_record_bytes(10_000);
    assert_eq!(
        streamed(&s, &csv, 4096).unwrap_err().code,
        "OverMaxRecordSize"
    );
    let mut doc = b"{\"a\":1}\n{\"a\":\"".to_vec();
    doc.extend(std::iter::repeat_n(b'x', 100_000));
    doc.extend(b"\"}");
    let s = select(
        "SELECT * FROM S3Object",
        InputFormat::Json,
        Compression::None,
    )
    .with_max_record_bytes(10_000)
    .with_json_read(1000);
    assert_eq!(
        streamed(&s, &doc, 4096).unwrap_err().code,
        "OverMaxRecordSize"
    );
    // Under the limit, a long record is read whole (the window grows for it).
    let s = select(
        "SELECT * FROM S3Object",
        InputFormat::Json,
        Compression::None,
    )
    .with_json_read(1000);
    let (out, _) = streamed(&s, &doc, 4096).unwrap();
    assert_eq!(out.len(), 8 + 100_000 + 9);
}

#[test]
fn a_limit_stops_the_reading_and_output_flows_before_the_end() {
    let mut csv = String::from("n,v\n");
    for i in 0..200_000 {
        csv.push_str(&format!("{i},{}\n", i * 7));
    }
    let header = InputFormat::Csv(CsvInput {
        header: FileHeader::Use,
        ..CsvInput::default()
    });
    let s = select(
        "SELECT s.n FROM S3Object s LIMIT 2",
        header.clone(),
        Compression::None,
    );
    let (out, counts) = streamed(&s, csv.as_bytes(), 4096).unwrap();
    assert_eq!(out, "{\"n\":\"0\"}\n{\"n\":\"1\"}\n");
    assert!(
        counts.scanned < 64 << 10,
        "read {} of {}",
        counts.scanned,
        csv.len()
    );

    // Every record out: the first chunk is handed on long before the object is read.
    struct FirstChunk {
        taken: std::rc::Rc<std::cell::Cell<usize>>,
        at: Option<usize>,
        chunks: usize,
    }
    impl SelectSink for FirstChunk {
        fn records(&mut self, _chunk: Vec<u8>) -> Result<(), SelectError> {
            self.at.get_or_insert(self.taken.get());
            self.chunks += 1;
            Ok(())
        }
    }
    let mut src = Dribble::new(csv.as_bytes(), 1 << 16);
    let mut sink = FirstChunk {
        taken: src.taken.clone(),
        at: None,
        chunks: 0,
    };
    let s = select("SELECT * FROM S3Object s", header, Compression::None);
    s.run_stream(&mut src, csv.len() as u64, &mut sink).unwrap();
    assert!(sink.chunks > 10);
    assert!(
        sink.at.unwrap() < csv.len() / 4,
        "first chunk after {:?} bytes",
        sink.at
    );
}

/// A source that fails after some bytes, as a store read may.
struct Failing<'a>(&'a [u8]);

impl std::io::Seek for Failing<'_> {
    fn seek(&mut self, _: std::io::SeekFrom) -> std::io::Result<u64> {
        Ok(0)
    }
}

impl std::io::Read for Failing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0.is_empty() {
            return Err(std::io::Error::other("stripe 3 cannot be rebuilt"));
        }
        let n = buf.len().min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn a_failing_read_is_the_stores_error_not_the_datas() {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for i in 0..50_000 {
        writeln!(gz, "{{\"a\":{i}}}").unwrap();
    }
    let gz = gz.finish().unwrap();
    for (input, compression, bytes) in [
        (InputFormat::Json, Compression::Gzip, &gz[..gz.len() / 2]),
        (
            InputFormat::Json,
            Compression::None,
            &b"{\"a\":1}\n{\"a\""[..],
        ),
        (
            InputFormat::Csv(CsvInput::default()),
            Compression::None,
            &b"1,2\n3,\""[..],
        ),
    ] {
        let s = select("SELECT * FROM S3Object", input, compression);
        let err = s
            .run_stream(&mut Failing(bytes), 1 << 20, &mut Collect::default())
            .unwrap_err();
        assert_eq!(err.code, "InternalError", "{err}");
        assert!(err.message.contains("stripe 3 cannot be rebuilt"), "{err}");
    }
}

proptest::proptest! {
    /// Cut an object into ScanRanges anywhere: each record comes out of exactly one of them,
    /// in order, whatever the cuts (CSV with a header, and JSON lines; no quoted newlines,
    /// which a range that seeks cannot tell apart, as on S3).
    #[test]
    fn scan_ranges_that_tile_an_object_take_each_record_once(
        rows in proptest::collection::vec((0u32..1000, "[a-z ]{0,12}"), 0..30),
        cuts in proptest::collection::vec(0usize..1000, 0..6),
        lines in proptest::bool::ANY,
    ) {
        let (object, input) = if lines {
            let doc: String = rows.iter().map(|(n, s)| format!("{{\"n\":{n},\"s\":\"{s}\"}}\n")).collect();
            (doc, InputFormat::JsonLines)
        } else {
            let csv: String = std::iter::once("n,s\n".to_string())
                .chain(rows.iter().map(|(n, s)| format!("{n},\"{s}\"\r\n")))
                .collect();
            (csv, csv_use())
        };
        let len = object.len() as u64;
        let mut bounds: Vec<u64> = cuts.iter().map(|c| *c as u64 % (len + 1)).collect();
        bounds.extend([0, len]);
        bounds.sort_unstable();
        bounds.dedup();
        let q = "SELECT s.n, s.s FROM S3Object s";
        let whole = run(q, input.clone(), json("\n"), object.as_bytes());
        let mut pieces = String::new();
        for w in bounds.windows(2) {
            if w[1] > w[0] {
                pieces += &run_range(q, input.clone(), json("\n"), object.as_bytes(), Some((Some(w[0]), Some(w[1] - 1))));
            }
        }
        proptest::prop_assert_eq!(pieces, whole);
    }
}

#[test]
fn a_scan_range_reads_about_its_range_not_the_object_before_it() {
    let mut csv = String::from("n,v\n");
    for i in 0..100_000 {
        csv.push_str(&format!("{i},{}\n", i * 3));
    }
    let len = csv.len() as u64;
    let s = Select::new(SelectRequest {
        expression: "SELECT count(*) FROM S3Object s WHERE CAST(s.v AS INT) >= 0".into(),
        input: csv_use(),
        compression: Compression::None,
        output: json("\n"),
        scan_range: Some((Some(len - 1000), None)),
    })
    .unwrap();
    let mut src = Dribble::new(csv.as_bytes(), 1 << 20);
    let mut out = Collect::default();
    s.run_stream(&mut src, len, &mut out).unwrap();
    // The last 1,000 bytes hold about 76 records of 13 bytes; the header is read apart.
    let n: serde_json::Value = serde_json::from_slice(&out.0.concat()).unwrap();
    let n = n["_1"].as_u64().unwrap();
    assert!((70..=80).contains(&n), "{n}");
    assert!(
        src.taken.get() < 64 << 10,
        "read {} of {len}",
        src.taken.get()
    );
}

proptest::proptest! {
    /// Whatever columns a query names — by name in any case, quoted, positionally, under an
    /// alias or not, in SELECT, WHERE or an aggregate — reading only those answers exactly as
    /// reading every column.
    #[test]
    fn reading_only_the_named_columns_answers_the_same(
        items in proptest::collection::vec(proptest::sample::select(vec![
            "s.a", "s.B", "_2", "s._3", "s.\"c\"", "s.\"C\"", "CAST(s.c AS INT)", "UPPER(a)",
            "s", "1", "s.nope", "_9",
        ]), 1..4),
        filter in proptest::sample::select(vec![
            "", "WHERE s.a LIKE 'x%'", "WHERE _3 = '2'", "WHERE s.b IS NOT NULL",
            "WHERE s.c BETWEEN '1' AND '5'", "WHERE s.a IN ('x1', s.b)",
        ]),
        aggregate in proptest::bool::ANY,
        header in proptest::bool::ANY,
        rows in proptest::collection::vec(("[xy][0-9]", "[a-c]{0,2}", 0u8..9, 0usize..3), 0..12),
    ) {
        let mut csv = if header { "a,b,c,d\n".to_string() } else { String::new() };
        for (a, b, c, extra) in &rows {
            csv.push_str(&format!("{a},{b},{c}"));
            for k in 0..*extra {
                csv.push_str(&format!(",e{k}"));
            }
            csv.push('\n');
        }
        let select = if aggregate {
            format!("count(*), max({})", items[0])
        } else {
            items.join(", ")
        };
        let input = InputFormat::Csv(CsvInput {
            header: if header { FileHeader::Use } else { FileHeader::None },
            ..CsvInput::default()
        });
        let req = SelectRequest {
            expression: format!("SELECT {select} FROM S3Object s {filter}"),
            input,
            compression: Compression::None,
            output: json(","),
            scan_range: None,
        };
        if let Ok(s) = Select::new(req) {
            let pruned = s.run(csv.as_bytes());
            proptest::prop_assert_eq!(pruned, s.without_pruning().run(csv.as_bytes()));
        }
    }
}

#[test]
fn progress_is_offered_every_few_thousand_records_with_the_counts_so_far() {
    // A scan that returns nothing for a long time: the front end's keep-alive depends on
    // these calls (`Cont`, or `Progress` when asked).
    struct Ticks(Vec<Counts>);
    impl SelectSink for Ticks {
        fn records(&mut self, _chunk: Vec<u8>) -> Result<(), SelectError> {
            Ok(())
        }
        fn progress(&mut self, so_far: &Counts) -> Result<(), SelectError> {
            self.0.push(*so_far);
            Ok(())
        }
    }
    let csv: String = (0..10_000).map(|i| format!("{i}\n")).collect();
    let s = select(
        "SELECT * FROM S3Object WHERE _1 = 'none'",
        InputFormat::Csv(CsvInput::default()),
        Compression::None,
    );
    let mut ticks = Ticks(Vec::new());
    let mut src = std::io::Cursor::new(csv.as_bytes());
    let counts = s
        .run_stream(&mut src, csv.len() as u64, &mut ticks)
        .unwrap();
    assert_eq!(ticks.0.len(), (10_000 / PROGRESS_RECORDS) as usize);
    assert!(ticks.0.windows(2).all(|w| w[0].scanned <= w[1].scanned));
    assert!(ticks
        .0
        .iter()
        .all(|c| c.scanned > 0 && c.scanned <= counts.scanned && c.returned == 0));
    assert_eq!(counts.returned, 0);
}
