//! Small formatting helpers shared by the object verbs.

use std::collections::BTreeMap;

use anyhow::Context;

/// `--meta NAME=VALUE` items as user metadata.
pub fn parse_meta(items: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    items
        .iter()
        .map(|s| {
            s.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .with_context(|| format!("--meta '{s}' is not NAME=VALUE"))
        })
        .collect()
}

/// Unix milliseconds as an ISO 8601 UTC timestamp (second precision), as S3 lists them.
pub fn ms_to_iso(ms: u64) -> String {
    // Days since epoch → civil date (Howard Hinnant's algorithm), enough for display.
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Print a JSON value, pretty.
pub fn print_json(v: serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(&v).expect("json"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(ms_to_iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(ms_to_iso(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(ms_to_iso(1_700_000_000_999), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn meta_pairs() {
        let m = parse_meta(&["a=1".into(), "b=x=y".into()]).unwrap();
        assert_eq!(m["a"], "1");
        assert_eq!(m["b"], "x=y");
        assert!(parse_meta(&["nope".into()])
            .unwrap_err()
            .to_string()
            .contains("'nope'"));
    }
}
