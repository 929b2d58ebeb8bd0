//! IAM's answers in XML (the query protocol, API version 2010-05-08): the entities, lists with
//! IAM's `Marker` paging, and errors.

use seedbed_dynamo::sts::escape;
use seedbed_sigv4::encode::uri_encode;

use crate::identity::{self, GroupEntry, RoleEntry, UserEntry};

use super::IamError;

/// IAM's XML namespace.
pub const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// `<name>text</name>`, the text escaped.
pub fn element(name: &str, text: &str) -> String {
    format!("<{name}>{}</{name}>", escape(text))
}

/// A policy document's text as IAM returns it: URL-encoded (SDKs decode it).
pub fn policy_text(text: &str) -> String {
    uri_encode(text, false)
}

/// The whole answer to `action`: its result (none for actions that return nothing, an empty
/// one for UpdateRole, whose result has no members but which SDKs expect all the same).
pub fn response(action: &str, result: &str, request_id: &str) -> Vec<u8> {
    let result = if result.is_empty() && action != "UpdateRole" {
        String::new()
    } else {
        format!("<{action}Result>{result}</{action}Result>")
    };
    format!(
        "<{action}Response xmlns=\"{NAMESPACE}\">{result}<ResponseMetadata>{}</ResponseMetadata></{action}Response>",
        element("RequestId", request_id)
    )
    .into_bytes()
}

/// An error document.
pub fn error(e: &IamError, request_id: &str) -> Vec<u8> {
    let kind = if e.status >= 500 {
        "Receiver"
    } else {
        "Sender"
    };
    format!(
        "<ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>{kind}</Type>{}{}</Error>{}</ErrorResponse>",
        element("Code", e.code),
        element("Message", &e.message),
        element("RequestId", request_id)
    )
    .into_bytes()
}

fn path(p: &Option<String>) -> &str {
    p.as_deref().unwrap_or("/")
}

fn created(c: &Option<String>) -> String {
    c.as_deref()
        .map(|c| element("CreateDate", c))
        .unwrap_or_default()
}

/// `<Tags>` with a member per tag (empty text when there are none).
pub fn tags(t: &std::collections::BTreeMap<String, String>) -> String {
    members(
        "Tags",
        t.iter()
            .map(|(k, v)| element("Key", k) + &element("Value", v)),
    )
}

fn tags_if_any(t: &std::collections::BTreeMap<String, String>) -> String {
    if t.is_empty() {
        String::new()
    } else {
        tags(t)
    }
}

/// How much of an entity an answer shows: a list's members leave out the permissions boundary
/// and tags, which Create and Get show when there are any (as IAM answers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// CreateUser, GetUser, CreateRole, GetRole.
    Full,
    /// A member of ListUsers, ListRoles, GetGroup.
    Listed,
}

fn boundary(arn: &Option<String>, shape: Shape) -> String {
    match (arn, shape) {
        (Some(a), Shape::Full) => format!(
            "<PermissionsBoundary><PermissionsBoundaryType>PermissionsBoundaryPolicy</PermissionsBoundaryType>{}</PermissionsBoundary>",
            element("PermissionsBoundaryArn", a)
        ),
        _ => String::new(),
    }
}

/// A user's fields (inside `<User>` or a list's `<member>`).
pub fn user(u: &UserEntry, shape: Shape) -> String {
    let arn = identity::user_arn(u);
    let extra = match shape {
        Shape::Full => boundary(&u.permissions_boundary, shape) + &tags_if_any(&u.tags),
        Shape::Listed => String::new(),
    };
    format!(
        "{}{}{}{}{}{extra}",
        element("Path", path(&u.path)),
        element("UserName", &u.name),
        element("UserId", &identity::entity_id(&u.id, "AIDA", &arn)),
        element("Arn", &arn),
        created(&u.created),
    )
}

/// A group's fields.
pub fn group(g: &GroupEntry) -> String {
    let arn = identity::group_arn_of(g);
    format!(
        "{}{}{}{}{}",
        element("Path", path(&g.path)),
        element("GroupName", &g.name),
        element("GroupId", &identity::entity_id(&g.id, "AGPA", &arn)),
        element("Arn", &arn),
        created(&g.created)
    )
}

/// A role's fields.
pub fn role(r: &RoleEntry, shape: Shape) -> String {
    let arn = identity::role_arn_of(r);
    format!(
        "{}{}{}{}{}{}{}{}",
        element("Path", path(&r.path)),
        element("RoleName", &r.name),
        element("RoleId", &identity::entity_id(&r.id, "AROA", &arn)),
        element("Arn", &arn),
        created(&r.created),
        element(
            "AssumeRolePolicyDocument",
            &policy_text(r.trust_policy.text())
        ),
        r.description
            .as_deref()
            .map(|d| element("Description", d))
            .unwrap_or_default(),
        element(
            "MaxSessionDuration",
            &r.max_session_secs
                .unwrap_or(identity::DEFAULT_MAX_SESSION_SECS)
                .to_string()
        ),
    ) + &match shape {
        Shape::Full => boundary(&r.permissions_boundary, shape) + &tags_if_any(&r.tags),
        Shape::Listed => String::new(),
    }
}

/// `RoleLastUsed` as GetRole and GetAccountAuthorizationDetails show it (CreateRole and
/// ListRoles leave it out): when and where a session of the role last signed a request, empty
/// when none has.
pub fn role_last_used(r: &RoleEntry) -> String {
    match &r.last_used {
        Some(l) => format!(
            "<RoleLastUsed>{}{}</RoleLastUsed>",
            element("LastUsedDate", &l.date),
            element("Region", &l.region)
        ),
        None => "<RoleLastUsed/>".into(),
    }
}

/// `<name><member>…</member>…</name>`, each member's fields already rendered.
pub fn members(name: &str, items: impl IntoIterator<Item = String>) -> String {
    let inner: String = items
        .into_iter()
        .map(|m| format!("<member>{m}</member>"))
        .collect();
    format!("<{name}>{inner}</{name}>")
}

/// Paging: `IsTruncated`, and the `Marker` to pass for the next page.
pub fn truncation(next: &Option<String>) -> String {
    match next {
        Some(m) => format!("<IsTruncated>true</IsTruncated>{}", element("Marker", m)),
        None => "<IsTruncated>false</IsTruncated>".into(),
    }
}

/// One page of `items` (already in IAM's order) after the request's `Marker`, at most its
/// `MaxItems` (100 when not given, 1 to 1,000), and the marker of the next page. A marker is
/// the key of the first item of the next page, so pages stay right while items are added.
pub fn page<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    marker: Option<&str>,
    max_items: Option<&str>,
) -> Result<(Vec<T>, Option<String>), IamError> {
    let max = match max_items {
        None => 100,
        Some(m) => match m.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return Err(IamError::validation(format!(
                    "MaxItems must be a number from 1 to 1000, not `{m}`"
                )))
            }
        },
    };
    let start = match marker {
        None => 0,
        Some(m) => items
            .iter()
            .position(|t| key(t).as_str() >= m)
            .unwrap_or(items.len()),
    };
    let mut rest: Vec<T> = items.into_iter().skip(start).collect();
    let next = if rest.len() > max {
        let n = key(&rest[max]);
        rest.truncate(max);
        Some(n)
    } else {
        None
    };
    Ok((rest, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_their_markers_to_the_end() {
        let items: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        let mut seen = Vec::new();
        let mut marker = None;
        loop {
            let (page, next) =
                page(items.clone(), |s| s.clone(), marker.as_deref(), Some("2")).unwrap();
            assert!(page.len() <= 2);
            seen.extend(page);
            match next {
                Some(m) => marker = Some(m),
                None => break,
            }
        }
        assert_eq!(seen, items);
        assert!(page(items.clone(), |s| s.clone(), None, Some("0")).is_err());
        assert!(page(items, |s| s.clone(), None, Some("x")).is_err());
    }

    #[test]
    fn documents_are_url_encoded_and_text_escaped() {
        assert_eq!(
            policy_text(r#"{"Version":"2012-10-17","Statement":[]}"#),
            "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D"
        );
        assert_eq!(
            element("UserName", "a<b&c"),
            "<UserName>a&lt;b&amp;c</UserName>"
        );
    }
}
