//! STS's GetCallerIdentity, answered on the DynamoDB listener: `aws sts get-caller-identity`
//! (and SDKs that ask which account their key belongs to, as moto's AWS-verified resource
//! policy tests do) work against `seedbed serve` with `--endpoint-url` pointing here. It is the
//! one STS operation served: a signed query-protocol POST (`Action=GetCallerIdentity`), answered
//! in STS's XML. Identities come from the IAM file; there is no STS service behind it
//! (AssumeRole is `seedbed iam assume-role`).

/// Whether a request with no `X-Amz-Target` is an STS query-protocol call, and which action.
pub fn action_of(content_type: Option<&str>, body: &[u8]) -> Option<String> {
    if !content_type?.starts_with("application/x-www-form-urlencoded") {
        return None;
    }
    let body = std::str::from_utf8(body).ok()?;
    body.split('&')
        .find_map(|p| p.strip_prefix("Action="))
        .map(str::to_string)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// GetCallerIdentity's answer.
pub fn caller_identity_xml(arn: &str, user_id: &str, account: &str, request_id: &str) -> Vec<u8> {
    format!(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
<GetCallerIdentityResult><Arn>{}</Arn><UserId>{}</UserId><Account>{}</Account>\
</GetCallerIdentityResult><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata>\
</GetCallerIdentityResponse>",
        escape(arn),
        escape(user_id),
        escape(account),
        escape(request_id)
    )
    .into_bytes()
}

/// An STS error document (`code`, `message`), as the query protocol writes it.
pub fn error_xml(code: &str, message: &str, request_id: &str) -> Vec<u8> {
    format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>\
<Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId>\
</ErrorResponse>",
        escape(code),
        escape(message),
        escape(request_id)
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_form_posts_are_sts() {
        let form = Some("application/x-www-form-urlencoded; charset=utf-8");
        assert_eq!(
            action_of(form, b"Action=GetCallerIdentity&Version=2011-06-15").as_deref(),
            Some("GetCallerIdentity")
        );
        assert_eq!(
            action_of(Some("application/x-amz-json-1.0"), b"Action=X"),
            None
        );
        assert_eq!(action_of(form, b"Version=2011-06-15"), None);
        let xml = String::from_utf8(caller_identity_xml("arn:a<b", "AIDA1", "123456789012", "r"))
            .unwrap();
        assert!(
            xml.contains("<Arn>arn:a&lt;b</Arn>")
                && xml.contains("<Account>123456789012</Account>")
        );
    }
}
