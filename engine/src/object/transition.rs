//! Lifecycle transitions: a version moves to another storage class when a rule's `Transition`
//! (the current version, counted from its write) or `NoncurrentVersionTransition` (a noncurrent
//! one, counted from when it stopped being current) falls due.
//!
//! In this store a storage class is a label: every class is kept the same way (K + M erasure
//! coding) and read at once, so a transition rewrites the version's metadata record and moves
//! no byte — the record's class is what HEAD, GET and the listings show, as on S3 after the
//! move. Like a tag change, the new class is in the metadata copies, not in the blob's own
//! description: a store rebuilt from its shards alone has each version in the class it was
//! written with.
//!
//! S3's rules kept here:
//! - **Down the waterfall only** ([`WATERFALL`]): S3 moves an object from a class read more often
//!   to one read less often, never back (no rule takes GLACIER_IR back to INTELLIGENT_TIERING);
//!   a rule whose class is not below the version's own does nothing to it.
//! - **The coldest due class wins** when several transitions are due at once, in one rule or
//!   several (S3 picks the lower-cost class).
//! - **Expiration comes first**: a version that expires in this pass is not moved.
//! - **30 days first for the IA classes**: a `Transition` to STANDARD_IA or ONEZONE_IA needs
//!   `Days` of at least 30, a `NoncurrentVersionTransition` `NoncurrentDays` of at least 30
//!   (checked by [`check_minimum_days`] when the configuration is put).

use super::error::ObjectError;
use super::lifecycle::{Candidate, DayLength, LifecycleRule, Transition};
use super::meta::VersionMeta;

/// The storage classes a general purpose bucket takes (S3's `x-amz-storage-class` values but
/// those of Outposts, directory buckets, Snow and FSx access points).
pub const STORAGE_CLASSES: [&str; 8] = [
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
];

/// S3's storage classes from the most often read to the least: a transition only moves a
/// version to a class further down. REDUCED_REDUNDANCY moves like STANDARD.
pub const WATERFALL: [&str; 7] = [
    "STANDARD",
    "STANDARD_IA",
    "INTELLIGENT_TIERING",
    "ONEZONE_IA",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
];

/// The classes a transition to which needs 30 days in the class before.
const THIRTY_DAY_CLASSES: [&str; 2] = ["STANDARD_IA", "ONEZONE_IA"];

/// A class's place on the waterfall (`None`: a class no transition moves to or from).
fn rank(class: &str) -> Option<usize> {
    match class {
        "REDUCED_REDUNDANCY" => Some(0),
        c => WATERFALL.iter().position(|w| *w == c),
    }
}

/// Whether a rule may move objects to `class`: a class of the waterfall below STANDARD.
pub fn is_target(class: &str) -> bool {
    WATERFALL[1..].contains(&class)
}

/// A version's class, `None` in the record being STANDARD.
pub fn class_of(v: &VersionMeta) -> &str {
    v.system.storage_class.as_deref().unwrap_or("STANDARD")
}

/// S3's minimum of 30 days before a transition to an IA class (`what`: `Transition` or
/// `NoncurrentVersionTransition`).
pub fn check_minimum_days(t: &Transition, what: &str, rule: &str) -> Result<(), ObjectError> {
    let field = if what == "Transition" {
        "Days"
    } else {
        "NoncurrentDays"
    };
    match t.days {
        Some(d) if d < 30 && THIRTY_DAY_CLASSES.contains(&t.storage_class.as_str()) => {
            Err(ObjectError::InvalidArgument(format!(
                "'{field}' in {what} action must be greater than or equal to 30 for \
                 storageClass '{}' (rule '{rule}')",
                t.storage_class
            )))
        }
        _ => Ok(()),
    }
}

/// S3's server-access-log operation for a transition to `class` (its "Lifecycle and logging"
/// table).
pub fn log_operation(class: &str) -> &'static str {
    match class {
        "STANDARD_IA" => "S3.TRANSITION_SIA.OBJECT",
        "ONEZONE_IA" => "S3.TRANSITION_ZIA.OBJECT",
        "INTELLIGENT_TIERING" => "S3.TRANSITION_INT.OBJECT",
        "GLACIER_IR" => "S3.TRANSITION_GIR.OBJECT",
        "DEEP_ARCHIVE" => "S3.TRANSITION_GDA.OBJECT",
        _ => "S3.TRANSITION.OBJECT",
    }
}

/// Where one version stands: what it is matched on, its class, and the moment its day count
/// starts (its write for the current version, the next version's write for a noncurrent one).
pub struct Standing<'a> {
    /// The version as rules match it.
    pub candidate: Candidate<'a>,
    /// Its class now.
    pub class: &'a str,
    /// When its days start.
    pub since_ms: u64,
    /// For a noncurrent version: how many noncurrent versions are newer (a rule's
    /// `NewerNoncurrentVersions` keeps that many where they are). `None`: the current one.
    pub newer_noncurrent: Option<usize>,
}

/// The class `s` is due to move to at `now_ms`, and the rule that moves it: the coldest of the
/// due transitions of the enabled rules that take it, if colder than where it is.
pub fn due<'r>(
    rules: &'r [LifecycleRule],
    s: &Standing<'_>,
    now_ms: u64,
    day: DayLength,
) -> Option<(&'r str, &'r str)> {
    let here = rank(s.class)?;
    rules
        .iter()
        .filter(|r| r.applies_to(s.candidate))
        .flat_map(|r| {
            let list = match s.newer_noncurrent {
                None => &r.transitions,
                Some(_) => &r.noncurrent_transitions,
            };
            list.iter().map(move |t| (r, t))
        })
        .filter(|(_, t)| {
            let at = match (t.days, t.date) {
                (Some(d), _) => day.after(s.since_ms, d),
                (None, Some(date)) => date,
                (None, None) => return false,
            };
            let kept_newer = match (s.newer_noncurrent, t.newer_noncurrent_versions) {
                (Some(newer), Some(keep)) => newer < keep as usize,
                _ => false,
            };
            now_ms >= at && !kept_newer
        })
        .filter_map(|(r, t)| Some((rank(&t.storage_class)?, r, t)))
        .filter(|(to, _, _)| *to > here)
        .max_by_key(|(to, _, _)| *to)
        .map(|(_, r, t)| (t.storage_class.as_str(), r.id.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        id: &str,
        transitions: Vec<(u32, &str)>,
        noncurrent: Vec<(u32, &str)>,
    ) -> LifecycleRule {
        let t = |(d, c): (u32, &str)| Transition {
            days: Some(d),
            date: None,
            storage_class: c.into(),
            newer_noncurrent_versions: None,
        };
        LifecycleRule {
            id: id.into(),
            enabled: true,
            prefix: Some(String::new()),
            filter: None,
            expiration: None,
            noncurrent_expiration: None,
            abort_incomplete_upload_days: None,
            transitions: transitions.into_iter().map(t).collect(),
            noncurrent_transitions: noncurrent.into_iter().map(t).collect(),
        }
    }

    const DAY: u64 = 1000;

    fn standing(class: &str, newer_noncurrent: Option<usize>) -> Standing<'_> {
        Standing {
            candidate: Candidate {
                key: "k",
                size: 1,
                tags: &[],
            },
            class,
            since_ms: 0,
            newer_noncurrent,
        }
    }

    #[test]
    fn the_coldest_due_class_wins_and_nothing_moves_back_up() {
        let day = DayLength::debug_ms(DAY);
        let rules = vec![
            rule(
                "a",
                vec![(1, "INTELLIGENT_TIERING"), (7, "GLACIER_IR")],
                vec![],
            ),
            rule("b", vec![(3, "GLACIER")], vec![]),
        ];
        let s = standing("STANDARD", None);
        assert_eq!(
            due(&rules, &s, DAY - 1, day),
            None,
            "nothing is due before a day"
        );
        assert_eq!(
            due(&rules, &s, DAY, day),
            Some(("INTELLIGENT_TIERING", "a"))
        );
        assert_eq!(due(&rules, &s, 3 * DAY, day), Some(("GLACIER", "b")));
        // GLACIER is colder than GLACIER_IR: the later rule does not bring it back.
        assert_eq!(due(&rules, &standing("GLACIER", None), 8 * DAY, day), None);
        // A class no transition knows (an Outposts label, say) is left alone.
        assert_eq!(due(&rules, &standing("OUTPOSTS", None), 8 * DAY, day), None);
    }

    #[test]
    fn noncurrent_versions_follow_their_own_transitions_and_keep_the_newest() {
        let day = DayLength::debug_ms(DAY);
        let mut rules = vec![rule("r", vec![(1, "GLACIER")], vec![(2, "GLACIER_IR")])];
        assert_eq!(due(&rules, &standing("STANDARD", Some(0)), DAY, day), None);
        assert_eq!(
            due(&rules, &standing("STANDARD", Some(0)), 2 * DAY, day),
            Some(("GLACIER_IR", "r"))
        );
        rules[0].noncurrent_transitions[0].newer_noncurrent_versions = Some(2);
        assert_eq!(
            due(&rules, &standing("STANDARD", Some(1)), 9 * DAY, day),
            None
        );
        assert_eq!(
            due(&rules, &standing("STANDARD", Some(2)), 9 * DAY, day),
            Some(("GLACIER_IR", "r"))
        );
    }

    #[test]
    fn the_ia_classes_need_thirty_days() {
        let t = |d: u32, c: &str| Transition {
            days: Some(d),
            date: None,
            storage_class: c.into(),
            newer_noncurrent_versions: None,
        };
        let e = check_minimum_days(&t(29, "STANDARD_IA"), "Transition", "r").unwrap_err();
        assert!(
            e.to_string()
                .contains("'Days' in Transition action must be greater than or equal to 30"),
            "{e}"
        );
        assert!(
            check_minimum_days(&t(29, "ONEZONE_IA"), "NoncurrentVersionTransition", "r")
                .unwrap_err()
                .to_string()
                .contains("'NoncurrentDays'")
        );
        assert!(check_minimum_days(&t(30, "STANDARD_IA"), "Transition", "r").is_ok());
        assert!(check_minimum_days(&t(0, "GLACIER"), "Transition", "r").is_ok());
        assert!(check_minimum_days(&t(1, "INTELLIGENT_TIERING"), "Transition", "r").is_ok());
    }
}
