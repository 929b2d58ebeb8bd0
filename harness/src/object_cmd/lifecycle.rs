//! `seedbed object lifecycle`: a bucket's lifecycle rules, in the JSON `aws s3api
//! put-bucket-lifecycle-configuration --lifecycle-configuration file://rules.json` takes, and
//! one pass of them run by hand — at the store's clock or at a date given, so that what the
//! rules will do can be seen without waiting for it.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use seedbed_engine::object::lifecycle::{
    DayLength, Expiration, Filter, LifecycleRule, NoncurrentExpiration, Transition,
};
use seedbed_engine::object::ObjectStore;
use serde::{Deserialize, Serialize};

use super::s3;

/// Arguments of `lifecycle`.
#[derive(Debug, Args)]
pub struct LifecycleArgs {
    #[command(subcommand)]
    verb: LifecycleVerb,
}

#[derive(Debug, Subcommand)]
enum LifecycleVerb {
    /// Set a bucket's rules from a JSON file ('-': stdin) in the form the aws cli takes:
    /// {"Rules": [{"ID": "...", "Filter": {"Prefix": "logs/"}, "Status": "Enabled",
    /// "Expiration": {"Days": 30}}]}.
    Put {
        /// Bucket name.
        bucket: String,
        /// The JSON file.
        file: PathBuf,
    },
    /// Print a bucket's rules as that JSON.
    Get {
        /// Bucket name.
        bucket: String,
    },
    /// Remove a bucket's rules.
    Rm {
        /// Bucket name.
        bucket: String,
    },
    /// Run one lifecycle pass over every bucket with rules, as `seedbed serve` does hourly.
    Run {
        /// Act as if it were this UTC date (YYYY-MM-DD, its midnight) instead of now. Acts for
        /// real: with --dry-run, see what the rules will do on that day first.
        #[arg(long, value_name = "DATE")]
        at: Option<String>,
        /// List what the pass would do, and the rule behind each action; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Make a "day" this many seconds, with no rounding to midnight (as `seedbed serve
        /// --lifecycle-day-secs`).
        #[arg(long, value_name = "SECS")]
        day_secs: Option<u64>,
    },
}

// The aws cli's JSON shape (S3's XML names), translated to and from the engine's rules.

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct Configuration {
    rules: Vec<Rule>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct Rule {
    #[serde(rename = "ID", default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    filter: Option<JsonFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expiration: Option<JsonExpiration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    noncurrent_version_expiration: Option<JsonNoncurrent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    abort_incomplete_multipart_upload: Option<JsonAbort>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    transitions: Vec<JsonTransition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    noncurrent_version_transitions: Vec<JsonTransition>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct JsonFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tag: Option<JsonTag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    object_size_greater_than: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    object_size_less_than: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    and: Option<JsonAnd>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct JsonAnd {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tags: Vec<JsonTag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    object_size_greater_than: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    object_size_less_than: Option<u64>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct JsonTag {
    key: String,
    value: String,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct JsonExpiration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expired_object_delete_marker: Option<bool>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct JsonNoncurrent {
    noncurrent_days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    newer_noncurrent_versions: Option<u32>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct JsonAbort {
    days_after_initiation: u32,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct JsonTransition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    noncurrent_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    date: Option<String>,
    storage_class: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    newer_noncurrent_versions: Option<u32>,
}

/// Unix milliseconds of a date as AWS takes one (`2027-01-31`, `2027-01-31T00:00:00Z`).
fn parse_date(s: &str) -> anyhow::Result<u64> {
    let ms = seedbed_engine::iam::condition::values::parse_date_millis(s)
        .filter(|_| s.contains('-'))
        .with_context(|| format!("'{s}' is not a date like 2027-01-31"))?;
    u64::try_from(ms).with_context(|| format!("'{s}' is before 1970"))
}

fn format_date(ms: u64) -> String {
    seedbed_engine::iam::authorizer::iso8601(ms)
}

fn tags(t: Vec<JsonTag>) -> Vec<(String, String)> {
    t.into_iter().map(|t| (t.key, t.value)).collect()
}

fn json_tags(t: Vec<(String, String)>) -> Vec<JsonTag> {
    t.into_iter()
        .map(|(key, value)| JsonTag { key, value })
        .collect()
}

fn rule_from(r: Rule) -> anyhow::Result<LifecycleRule> {
    let id = r.id.unwrap_or_default();
    let filter = r.filter.map(|f| match f.and {
        Some(and) => Filter {
            prefix: and.prefix,
            tags: tags(and.tags),
            size_greater_than: and.object_size_greater_than,
            size_less_than: and.object_size_less_than,
            and: true,
        },
        None => Filter {
            prefix: f.prefix,
            tags: tags(f.tag.into_iter().collect()),
            size_greater_than: f.object_size_greater_than,
            size_less_than: f.object_size_less_than,
            and: false,
        },
    });
    let expiration = match r.expiration {
        None => None,
        Some(e) => Some(match (e.days, e.date, e.expired_object_delete_marker) {
            (Some(d), None, None) => Expiration::Days(d),
            (None, Some(t), None) => Expiration::Date(parse_date(&t)?),
            (None, None, Some(m)) => Expiration::ExpiredObjectDeleteMarker(m),
            _ => bail!(
                "rule '{id}': an Expiration has exactly one of Days, Date and ExpiredObjectDeleteMarker"
            ),
        }),
    };
    let transition = |t: JsonTransition| -> anyhow::Result<Transition> {
        Ok(Transition {
            days: t.days.or(t.noncurrent_days),
            date: t.date.as_deref().map(parse_date).transpose()?,
            storage_class: t.storage_class,
            newer_noncurrent_versions: t.newer_noncurrent_versions,
        })
    };
    Ok(LifecycleRule {
        enabled: match r.status.as_str() {
            "Enabled" => true,
            "Disabled" => false,
            other => bail!("rule '{id}': Status is Enabled or Disabled, not '{other}'"),
        },
        prefix: r.prefix,
        filter,
        expiration,
        noncurrent_expiration: r
            .noncurrent_version_expiration
            .map(|n| NoncurrentExpiration {
                days: n.noncurrent_days,
                newer_noncurrent_versions: n.newer_noncurrent_versions,
            }),
        abort_incomplete_upload_days: r
            .abort_incomplete_multipart_upload
            .map(|a| a.days_after_initiation),
        transitions: r
            .transitions
            .into_iter()
            .map(transition)
            .collect::<anyhow::Result<_>>()?,
        noncurrent_transitions: r
            .noncurrent_version_transitions
            .into_iter()
            .map(transition)
            .collect::<anyhow::Result<_>>()?,
        id,
    })
}

fn rule_to(r: LifecycleRule) -> Rule {
    let transition = |noncurrent: bool| {
        move |t: Transition| JsonTransition {
            days: t.days.filter(|_| !noncurrent),
            noncurrent_days: t.days.filter(|_| noncurrent),
            date: t.date.map(format_date),
            storage_class: t.storage_class,
            newer_noncurrent_versions: t.newer_noncurrent_versions,
        }
    };
    Rule {
        id: Some(r.id),
        status: if r.enabled { "Enabled" } else { "Disabled" }.into(),
        prefix: r.prefix,
        filter: r.filter.map(|f| {
            if f.and {
                JsonFilter {
                    and: Some(JsonAnd {
                        prefix: f.prefix,
                        tags: json_tags(f.tags),
                        object_size_greater_than: f.size_greater_than,
                        object_size_less_than: f.size_less_than,
                    }),
                    ..JsonFilter::default()
                }
            } else {
                JsonFilter {
                    prefix: f.prefix,
                    tag: json_tags(f.tags).into_iter().next(),
                    object_size_greater_than: f.size_greater_than,
                    object_size_less_than: f.size_less_than,
                    and: None,
                }
            }
        }),
        expiration: r.expiration.map(|e| match e {
            Expiration::Days(d) => JsonExpiration {
                days: Some(d),
                ..JsonExpiration::default()
            },
            Expiration::Date(t) => JsonExpiration {
                date: Some(format_date(t)),
                ..JsonExpiration::default()
            },
            Expiration::ExpiredObjectDeleteMarker(m) => JsonExpiration {
                expired_object_delete_marker: Some(m),
                ..JsonExpiration::default()
            },
        }),
        noncurrent_version_expiration: r.noncurrent_expiration.map(|n| JsonNoncurrent {
            noncurrent_days: n.days,
            newer_noncurrent_versions: n.newer_noncurrent_versions,
        }),
        abort_incomplete_multipart_upload: r.abort_incomplete_upload_days.map(|d| JsonAbort {
            days_after_initiation: d,
        }),
        transitions: r.transitions.into_iter().map(transition(false)).collect(),
        noncurrent_version_transitions: r
            .noncurrent_transitions
            .into_iter()
            .map(transition(true))
            .collect(),
    }
}

/// `lifecycle put | get | rm | run`.
pub fn lifecycle(store: &ObjectStore, json: bool, a: LifecycleArgs) -> anyhow::Result<()> {
    match a.verb {
        LifecycleVerb::Put { bucket, file } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?
            };
            let c: Configuration = serde_json::from_str(&text).with_context(|| {
                format!(
                    "MalformedXML: {} is not a lifecycle configuration as the aws cli takes it",
                    file.display()
                )
            })?;
            let rules = c
                .rules
                .into_iter()
                .map(rule_from)
                .collect::<anyhow::Result<Vec<_>>>()
                .context("MalformedXML")?;
            store.put_bucket_lifecycle(&bucket, rules).map_err(s3)?;
        }
        LifecycleVerb::Get { bucket } => {
            let rules = store.bucket_lifecycle(&bucket).map_err(s3)?;
            let c = Configuration {
                rules: rules.into_iter().map(rule_to).collect(),
            };
            println!("{}", serde_json::to_string_pretty(&c)?);
        }
        LifecycleVerb::Rm { bucket } => store.delete_bucket_lifecycle(&bucket).map_err(s3)?,
        LifecycleVerb::Run {
            at,
            dry_run,
            day_secs,
        } => {
            let day = match day_secs {
                Some(0) => bail!("--day-secs must be at least 1"),
                Some(s) => DayLength::debug_ms(s * 1000),
                None => DayLength::REAL,
            };
            let now = match at {
                Some(d) => parse_date(&d)?,
                None => store.clock_ms(),
            };
            let r = if dry_run {
                store.plan_lifecycle_at(now, day)
            } else {
                store.apply_lifecycle_at(now, day)
            }
            .map_err(s3)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                for p in &r.planned {
                    let id = p.id.as_deref().map(|i| format!(" {i}")).unwrap_or_default();
                    println!(
                        "{:<17} {}/{}{id}  (rule {})",
                        p.action, p.bucket, p.key, p.rule
                    );
                }
                println!(
                    "lifecycle{}: {} buckets with rules, {} versions looked at: {} expired, {} \
                     noncurrent versions removed, {} delete markers removed, {} moved to \
                     another storage class, {} uploads aborted, {} kept by Object Lock",
                    if dry_run {
                        " (dry run: nothing changed)"
                    } else {
                        ""
                    },
                    r.buckets,
                    r.versions_seen,
                    r.expired,
                    r.noncurrent_removed,
                    r.markers_removed,
                    r.transitioned,
                    r.uploads_aborted,
                    r.locked
                );
                for e in &r.errors {
                    eprintln!("lifecycle: {e}");
                }
            }
            if !r.errors.is_empty() {
                bail!("{} lifecycle actions failed", r.errors.len());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_aws_cli_shape_goes_both_ways() {
        let text = r#"{"Rules": [
            {"ID": "a", "Filter": {"And": {"Prefix": "p/", "Tags": [{"Key": "k", "Value": "v"}]}},
             "Status": "Enabled", "Expiration": {"Date": "2030-01-01"},
             "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "GLACIER"}]},
            {"ID": "b", "Prefix": "", "Status": "Disabled",
             "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}]}"#;
        let c: Configuration = serde_json::from_str(text).unwrap();
        let rules: Vec<LifecycleRule> =
            c.rules.into_iter().map(|r| rule_from(r).unwrap()).collect();
        assert_eq!(
            rules[0].expiration,
            Some(Expiration::Date(1_893_456_000_000))
        );
        assert!(rules[0].filter.as_ref().unwrap().and);
        assert!(!rules[1].enabled);
        let back = serde_json::to_value(Configuration {
            rules: rules.into_iter().map(rule_to).collect(),
        })
        .unwrap();
        assert_eq!(
            back["Rules"][0]["Expiration"]["Date"],
            "2030-01-01T00:00:00Z"
        );
        assert_eq!(back["Rules"][0]["Filter"]["And"]["Tags"][0]["Key"], "k");
        assert_eq!(
            back["Rules"][0]["NoncurrentVersionTransitions"][0]["NoncurrentDays"],
            30
        );
        assert_eq!(
            back["Rules"][1]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"],
            7
        );
        assert!(serde_json::from_str::<Configuration>(
            r#"{"Rules": [{"Status": "Enabled", "Expire": {}}]}"#
        )
        .is_err());
        assert!(parse_date("2030-13-01").is_err());
    }
}
