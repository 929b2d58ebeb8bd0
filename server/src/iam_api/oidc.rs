//! IAM's registry of OpenID Connect providers: `CreateOpenIDConnectProvider` and the rest, as
//! IAM checks them (an `https://` URL of at most 255 characters, at most 100 client IDs of at
//! most 255 characters, at most 5 thumbprints of 40 hex digits). A provider's ARN is
//! `arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH` (the URL without its scheme).

use crate::identity::file::OidcProviderEntry;
use crate::identity::IamFile;

use super::ops::{Caller, Params};
use super::render::{element, members};
use super::IamError;
use seedbed_dynamo::sts::escape;

/// The actions on providers that only read.
pub const READS: &[&str] = &["GetOpenIDConnectProvider", "ListOpenIDConnectProviders"];

/// The actions on providers that change the file.
pub const EDITS: &[&str] = &[
    "CreateOpenIDConnectProvider",
    "DeleteOpenIDConnectProvider",
    "AddClientIDToOpenIDConnectProvider",
    "RemoveClientIDFromOpenIDConnectProvider",
    "UpdateOpenIDConnectProviderThumbprint",
];

/// A provider's ARN.
pub fn arn(account: &str, url: &str) -> String {
    let host_path = url.strip_prefix("https://").unwrap_or(url);
    format!("arn:aws:iam::{account}:oidc-provider/{host_path}")
}

/// The ARN IAM authorizes `action` against.
pub fn target(c: &Caller, action: &str, p: &Params) -> String {
    match action {
        "ListOpenIDConnectProviders" => "*".into(),
        "CreateOpenIDConnectProvider" => arn(&c.account, p.get("Url").unwrap_or_default()),
        _ => p.get("OpenIDConnectProviderArn").unwrap_or("*").to_string(),
    }
}

fn check_url(url: &str) -> Result<(), IamError> {
    let host = url.strip_prefix("https://").unwrap_or_default();
    if url.len() > 255 || host.is_empty() || host.starts_with('/') {
        return Err(IamError::validation(format!(
            "Url `{url}` is not valid: an https:// URL of at most 255 characters"
        )));
    }
    Ok(())
}

fn check_client_id(id: &str) -> Result<(), IamError> {
    if id.is_empty() || id.len() > 255 {
        return Err(IamError::validation(format!(
            "ClientID `{id}` is not valid: 1 to 255 characters"
        )));
    }
    Ok(())
}

fn check_thumbprints(t: &[String]) -> Result<(), IamError> {
    if t.len() > 5 {
        return Err(IamError::limit("a provider has at most 5 thumbprints"));
    }
    for x in t {
        if x.len() != 40 || !x.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(IamError::validation(format!(
                "thumbprint `{x}` is not valid: 40 hex digits"
            )));
        }
    }
    Ok(())
}

fn find<'a>(
    f: &'a mut IamFile,
    c: &Caller,
    p: &Params,
) -> Result<(usize, &'a mut OidcProviderEntry), IamError> {
    let wanted = p.required("OpenIDConnectProviderArn")?;
    f.oidc_providers
        .iter_mut()
        .enumerate()
        .find(|(_, o)| o.account == c.account && arn(&o.account, &o.url) == wanted)
        .ok_or_else(|| {
            IamError::no_such(format!("OpenIDConnect Provider not found for arn {wanted}"))
        })
}

/// Run a provider action.
pub fn run(
    f: &mut IamFile,
    c: &Caller,
    action: &str,
    p: &Params,
    now: &str,
) -> Result<String, IamError> {
    match action {
        "CreateOpenIDConnectProvider" => {
            let url = p.required("Url")?;
            check_url(url)?;
            let client_ids = p.list("ClientIDList");
            if client_ids.len() > 100 {
                return Err(IamError::limit("a provider has at most 100 client IDs"));
            }
            for id in &client_ids {
                check_client_id(id)?;
            }
            let thumbprints = p.list("ThumbprintList");
            check_thumbprints(&thumbprints)?;
            let a = arn(&c.account, url);
            if f.oidc_providers
                .iter()
                .any(|o| o.account == c.account && arn(&o.account, &o.url) == a)
            {
                return Err(IamError::exists(format!(
                    "Provider with url {url} already exists."
                )));
            }
            f.oidc_providers.push(OidcProviderEntry {
                account: c.account.clone(),
                url: url.to_string(),
                client_ids,
                thumbprints,
                created: Some(now.to_string()),
            });
            Ok(element("OpenIDConnectProviderArn", &a))
        }
        "GetOpenIDConnectProvider" => {
            let (_, o) = find(f, c, p)?;
            Ok(element("Url", &o.url)
                + &members("ClientIDList", o.client_ids.iter().map(|x| escape(x)))
                + &members("ThumbprintList", o.thumbprints.iter().map(|x| escape(x)))
                + &o.created
                    .as_deref()
                    .map(|d| element("CreateDate", d))
                    .unwrap_or_default())
        }
        "ListOpenIDConnectProviders" => {
            let mut arns: Vec<String> = f
                .oidc_providers
                .iter()
                .filter(|o| o.account == c.account)
                .map(|o| arn(&o.account, &o.url))
                .collect();
            arns.sort();
            Ok(members(
                "OpenIDConnectProviderList",
                arns.iter().map(|a| element("Arn", a)),
            ))
        }
        "DeleteOpenIDConnectProvider" => {
            let (i, _) = find(f, c, p)?;
            f.oidc_providers.remove(i);
            Ok(String::new())
        }
        "AddClientIDToOpenIDConnectProvider" | "RemoveClientIDFromOpenIDConnectProvider" => {
            let id = p.required("ClientID")?.to_string();
            check_client_id(&id)?;
            let (_, o) = find(f, c, p)?;
            if action.starts_with("Add") {
                if !o.client_ids.contains(&id) {
                    if o.client_ids.len() >= 100 {
                        return Err(IamError::limit("a provider has at most 100 client IDs"));
                    }
                    o.client_ids.push(id);
                }
            } else {
                o.client_ids.retain(|x| *x != id);
            }
            Ok(String::new())
        }
        _ => {
            let thumbprints = p.list("ThumbprintList");
            check_thumbprints(&thumbprints)?;
            let (_, o) = find(f, c, p)?;
            o.thumbprints = thumbprints;
            Ok(String::new())
        }
    }
}
