//! The credential report: GenerateCredentialReport and GetCredentialReport — IAM's CSV of every
//! user of the account and the root user with the state of their credentials, which audits
//! read (who has active keys, how old they are, which certificates are on).
//!
//! The columns are IAM's, in IAM's order. What this server has no record of is answered as IAM
//! answers for what does not apply: passwords and MFA devices (there are no login profiles)
//! `false`, a key's or certificate's last use `N/A`. A key's `last_rotated` is when it was made,
//! as on IAM. Difference: IAM keeps a report for four hours and answers that snapshot; here
//! GenerateCredentialReport records when it was asked (its first call answers `STARTED`, the
//! later ones `COMPLETE`) and GetCredentialReport reads the credentials as they are.

use base64::Engine;

use crate::identity::{AccessKey, IamFile, KeyStatus, UserEntry};

use super::ops::Caller;
use super::render::element;
use super::IamError;

/// IAM's columns.
const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,\
password_last_changed,password_next_rotation,mfa_active,access_key_1_active,\
access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,\
access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,\
access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,\
cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

/// GenerateCredentialReport.
pub(super) fn generate(f: &mut IamFile, c: &Caller, now: &str) -> Result<String, IamError> {
    let account = f.accounts.get_mut(&c.account).ok_or_else(|| {
        IamError::no_such(format!("account {} is not in the IAM file", c.account))
    })?;
    let first = account.credential_report.is_none();
    account.credential_report = Some(now.to_string());
    Ok(if first {
        element("State", "STARTED")
            + &element(
                "Description",
                "No report exists. Starting a new report generation task",
            )
    } else {
        element("State", "COMPLETE")
    })
}

/// GetCredentialReport.
pub(super) fn get(f: &IamFile, c: &Caller) -> Result<String, IamError> {
    let generated = f
        .accounts
        .get(&c.account)
        .and_then(|a| a.credential_report.clone())
        .ok_or_else(|| {
            IamError::new(
                410,
                "ReportNotPresent",
                "No credential report exists: call GenerateCredentialReport first",
            )
        })?;
    let csv = report(f, c);
    Ok(element(
        "Content",
        &base64::engine::general_purpose::STANDARD.encode(csv),
    ) + &element("ReportFormat", "text/csv")
        + &element("GeneratedTime", &generated))
}

/// The CSV: the root user first, then every user of the account in the file's order.
fn report(f: &IamFile, c: &Caller) -> String {
    let root_keys = f
        .accounts
        .get(&c.account)
        .map(|a| a.root_access_keys.as_slice())
        .unwrap_or_default();
    let mut lines = vec![HEADER.to_string()];
    lines.push(row(
        "<root_account>",
        &format!("arn:aws:iam::{}:root", c.account),
        None,
        root_keys,
        &[],
        "not_supported",
    ));
    for u in f.users.iter().filter(|u| u.account == c.account) {
        lines.push(user_row(u));
    }
    lines.join("\n") + "\n"
}

fn user_row(u: &UserEntry) -> String {
    let certs: Vec<(bool, &str)> = u
        .signing_certificates
        .iter()
        .map(|s| (s.status == KeyStatus::Active, s.uploaded.as_str()))
        .collect();
    row(
        &u.name,
        &crate::identity::user_arn(u),
        u.created.as_deref(),
        &u.access_keys,
        &certs,
        "false",
    )
}

fn row(
    name: &str,
    arn: &str,
    created: Option<&str>,
    keys: &[AccessKey],
    certs: &[(bool, &str)],
    password: &str,
) -> String {
    let time = |t: Option<&str>| t.map(iso).unwrap_or_else(|| "N/A".into());
    let mut cells = vec![
        name.to_string(),
        arn.to_string(),
        time(created),
        password.to_string(),
        "N/A".into(),
        "N/A".into(),
        "N/A".into(),
        "false".into(),
    ];
    for i in 0..2 {
        match keys.get(i) {
            Some(k) => cells.extend([
                (k.status == KeyStatus::Active).to_string(),
                time(k.created.as_deref()),
                time(k.last_used.as_ref().map(|l| l.date.as_str())),
                k.last_used
                    .as_ref()
                    .map_or_else(|| "N/A".into(), |l| l.region.clone()),
                k.last_used
                    .as_ref()
                    .and_then(|l| l.service.clone())
                    .unwrap_or_else(|| "N/A".into()),
            ]),
            None => cells.extend([
                "false".into(),
                "N/A".into(),
                "N/A".into(),
                "N/A".into(),
                "N/A".into(),
            ]),
        }
    }
    for i in 0..2 {
        match certs.get(i) {
            Some((active, uploaded)) => cells.extend([active.to_string(), iso(uploaded)]),
            None => cells.extend(["false".into(), "N/A".into()]),
        }
    }
    cells.join(",")
}

/// IAM's report writes times as `2026-12-05T10:00:00+00:00`.
fn iso(t: &str) -> String {
    t.strip_suffix('Z')
        .map(|s| format!("{s}+00:00"))
        .unwrap_or_else(|| t.to_string())
}
