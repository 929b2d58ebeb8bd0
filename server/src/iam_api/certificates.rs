//! Signing certificates: the X.509 certificates a user of the SOAP-era AWS APIs signed requests
//! with — UploadSigningCertificate, UpdateSigningCertificate, DeleteSigningCertificate,
//! ListSigningCertificates. This server signs nothing with them; it keeps and answers them as
//! IAM does, so that tools which manage them (and moto's AWS-verified tests) work against it.
//!
//! IAM's rules kept here: the body must be a PEM-encoded X.509 certificate
//! (MalformedCertificate otherwise; parsed with `x509-cert`, its signature not checked — a
//! signing certificate is usually self-signed); a user has at most [`PER_USER`]; the same
//! certificate cannot belong to two users of one account (DuplicateCertificate); a user with
//! certificates cannot be deleted (DeleteConflict, `users.rs`).

use x509_cert::der::DecodePem;

use crate::identity::{keys, IamFile, KeyStatus, SigningCertificate};

use super::ops::{user, user_mut, Caller, Params};
use super::render::{element, members, truncation};
use super::IamError;

/// The most signing certificates one user may have (IAM's `CertificatesPerUser`).
pub const PER_USER: usize = 2;

/// The four actions, on the named user's certificates (or the calling user's).
pub(super) fn signing_certificates(
    f: &mut IamFile,
    c: &Caller,
    action: &str,
    p: &Params,
    now: &str,
) -> Result<String, IamError> {
    let Some(name) = p.get("UserName").or(c.user.as_deref()) else {
        return Err(IamError::validation(
            "UserName is needed: this server keeps signing certificates for IAM users only",
        ));
    };
    let owner = user(f, &c.account, name)?.name.clone();
    let not_found =
        |id: &str| IamError::no_such(format!("The Certificate with id {id} cannot be found."));
    match action {
        "UploadSigningCertificate" => {
            let body = p.required("CertificateBody")?;
            let cert = parse(body)?;
            // The same certificate, however its PEM is laid out.
            let taken = f.users.iter().any(|u| {
                u.account == c.account
                    && u.signing_certificates
                        .iter()
                        .any(|s| parse(&s.body).is_ok_and(|other| other == cert))
            });
            if taken {
                return Err(IamError::new(
                    409,
                    "DuplicateCertificate",
                    "The request was rejected because the same certificate is associated with an \
                     IAM user in the account.",
                ));
            }
            let certs = &mut user_mut(f, &c.account, name)?.signing_certificates;
            if certs.len() >= PER_USER {
                return Err(IamError::limit(format!(
                    "Cannot exceed quota for CertificatesPerUser: {PER_USER}"
                )));
            }
            let cert = SigningCertificate {
                id: keys::certificate_id()?,
                body: body.to_string(),
                status: KeyStatus::Active,
                uploaded: now.to_string(),
            };
            let out = format!("<Certificate>{}</Certificate>", render(&owner, &cert));
            certs.push(cert);
            Ok(out)
        }
        "UpdateSigningCertificate" => {
            let id = p.required("CertificateId")?;
            let status = super::users::status_param(p)?;
            let certs = &mut user_mut(f, &c.account, name)?.signing_certificates;
            let cert = certs
                .iter_mut()
                .find(|s| s.id == id)
                .ok_or_else(|| not_found(id))?;
            cert.status = status;
            Ok(String::new())
        }
        "DeleteSigningCertificate" => {
            let id = p.required("CertificateId")?;
            let certs = &mut user_mut(f, &c.account, name)?.signing_certificates;
            let before = certs.len();
            certs.retain(|s| s.id != id);
            if certs.len() == before {
                return Err(not_found(id));
            }
            Ok(String::new())
        }
        _ => {
            let certs = &user(f, &c.account, name)?.signing_certificates;
            Ok(
                members("Certificates", certs.iter().map(|s| render(&owner, s)))
                    + &truncation(&None),
            )
        }
    }
}

/// IAM's `SigningCertificate` element's inside.
fn render(owner: &str, s: &SigningCertificate) -> String {
    format!(
        "{}{}{}{}{}",
        element("UserName", owner),
        element("CertificateId", &s.id),
        element("CertificateBody", &s.body),
        element(
            "Status",
            if s.status == KeyStatus::Active {
                "Active"
            } else {
                "Inactive"
            }
        ),
        element("UploadDate", &s.uploaded)
    )
}

/// A certificate body IAM takes: one PEM `CERTIFICATE` block holding a DER X.509 certificate.
fn parse(body: &str) -> Result<x509_cert::Certificate, IamError> {
    x509_cert::Certificate::from_pem(body.trim().as_bytes()).map_err(|e| {
        IamError::new(
            400,
            "MalformedCertificate",
            format!("Certificate body is not a PEM-encoded X.509 certificate: {e}"),
        )
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    #[test]
    fn only_a_pem_x509_certificate_is_taken() {
        assert_eq!(parse("notacert").unwrap_err().code, "MalformedCertificate");
        let not_der =
            "-----BEGIN CERTIFICATE-----\nTUlJQ09ORk9STUFOQ0U=\n-----END CERTIFICATE-----\n";
        assert_eq!(parse(not_der).unwrap_err().code, "MalformedCertificate");
        for c in test_certs() {
            assert!(parse(&c).is_ok(), "{c}");
        }
    }

    /// Three self-signed P-256 certificates made with `openssl req -x509` for the tests.
    pub(in super::super) fn test_certs() -> Vec<String> {
        include_str!("testdata/signing-certs.pem")
            .split_inclusive("-----END CERTIFICATE-----\n")
            .map(str::to_string)
            .collect()
    }
}
