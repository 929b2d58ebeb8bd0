//! Error documents as S3 writes them, where s3s wrote only a code.
//!
//! s3s refuses some requests itself, before any operation of ours runs (a bucket name it cannot
//! route, a path it cannot parse, a body shorter than its Content-Length, ...), and its document
//! then holds `<Code>` alone. Clients show the message: botocore prints "An error occurred
//! (InvalidBucketName) when calling the CreateBucket operation: Unknown", which tells a user
//! nothing. S3 always sends a `<Message>` and a `<RequestId>`; [`complete`] puts in S3's own
//! message for the code (for a bad bucket name, also which rule it breaks and `<BucketName>`)
//! and the request's id.

use seedbed_engine::object::names::validate_bucket;
use seedbed_engine::object::ObjectError;

/// S3's message for an error code, as its error-code list gives it, for the codes s3s may
/// answer with no message of its own.
fn standard_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "AccessDenied" => "Access Denied",
        "BadDigest" => "The Content-MD5 you specified did not match what we received.",
        "EntityTooLarge" => "Your proposed upload exceeds the maximum allowed object size.",
        "EntityTooSmall" => "Your proposed upload is smaller than the minimum allowed object size.",
        "IncompleteBody" => {
            "You did not provide the number of bytes specified by the Content-Length HTTP header."
        }
        "InternalError" => "We encountered an internal error. Please try again.",
        "InvalidAccessKeyId" => "The AWS access key ID you provided does not exist in our records.",
        "InvalidArgument" => "Invalid Argument",
        "InvalidBucketName" => "The specified bucket is not valid.",
        "InvalidDigest" => "The Content-MD5 you specified is not valid.",
        "InvalidRange" => "The requested range is not satisfiable",
        "InvalidRequest" => "Invalid Request",
        "InvalidURI" => "Couldn't parse the specified URI.",
        "KeyTooLongError" => "Your key is too long.",
        "MalformedXML" => {
            "The XML you provided was not well-formed or did not validate against our published \
             schema."
        }
        "MethodNotAllowed" => "The specified method is not allowed against this resource.",
        "MalformedPOSTRequest" => {
            "The body of your POST request is not well-formed multipart/form-data."
        }
        // As AWS answers it (moto's AWS-verified test_put_object_lock_misconfiguration), not
        // as its error-code list writes it ("Request body is empty.").
        "MissingRequestBodyError" => "Request Body is empty",
        "MissingContentLength" => "You must provide the Content-Length HTTP header.",
        "MissingSecurityHeader" => "Your request is missing a required header.",
        "NoSuchBucket" => "The specified bucket does not exist",
        "NoSuchKey" => "The specified key does not exist.",
        "NotImplemented" => "A header you provided implies functionality that is not implemented.",
        "PreconditionFailed" => "At least one of the preconditions you specified did not hold.",
        "RequestTimeTooSkewed" => {
            "The difference between the request time and the current time is too large."
        }
        "SignatureDoesNotMatch" => {
            "The request signature we calculated does not match the signature you provided. \
             Check your key and signing method."
        }
        "UnexpectedContent" => "This request does not support content.",
        _ => return None,
    })
}

/// `doc` (an `<Error>` document) with what S3 would have put in: `<Message>` when it has none
/// (S3's message for the code), `<RequestId>` when it has none, and for InvalidBucketName the
/// rule the path's bucket breaks and `<BucketName>`. `None` when there is nothing to add (not
/// an error document, or a complete one).
pub fn complete(doc: &str, request_id: &str, path: &str) -> Option<String> {
    let code_end = doc.find("</Code>")?;
    let code = &doc[doc.find("<Code>")? + "<Code>".len()..code_end];
    let has_message = doc.contains("<Message>");
    let has_id = doc.contains("<RequestId>");
    if has_message && has_id {
        return None;
    }
    let mut out = String::with_capacity(doc.len() + 160);
    out.push_str(&doc[..code_end + "</Code>".len()]);
    let mut extra = String::new();
    if !has_message {
        let mut message = standard_message(code).unwrap_or_default().to_string();
        if code == "InvalidBucketName" {
            // Path-style: the bucket is the path's first segment.
            let bucket = path.trim_start_matches('/').split('/').next().unwrap_or("");
            if let Err(ObjectError::InvalidBucketName { why, .. }) = validate_bucket(bucket) {
                message = format!("{message} '{bucket}': {why}");
                extra = format!("<BucketName>{}</BucketName>", escape(bucket));
            }
        }
        if !message.is_empty() {
            out.push_str(&format!("<Message>{}</Message>", escape(&message)));
        }
    }
    let rest = &doc[code_end + "</Code>".len()..];
    let end = rest.rfind("</Error>")?;
    out.push_str(&rest[..end]);
    out.push_str(&extra);
    if !has_id {
        out.push_str(&format!("<RequestId>{}</RequestId>", escape(request_id)));
    }
    out.push_str(&rest[end..]);
    Some(out)
}

/// s3s's answer to a method S3 has no operation for on the path's resource (POST to an object
/// without `uploads`, `uploadId`, `restore` or `select`, DELETE of the service, …) is 501
/// NotImplemented "Unknown operation": the request names nothing that exists to implement.
/// S3 answers it 405 MethodNotAllowed, naming the method and the kind of resource (`OBJECT`,
/// `BUCKET`, `SERVICE`), as clients that POST a file to an object's URL see it. `None`: not
/// that answer.
pub fn no_such_operation(doc: &str, method: &str, path: &str, request_id: &str) -> Option<String> {
    if !doc.contains("<Code>NotImplemented</Code><Message>Unknown operation</Message>") {
        return None;
    }
    let resource = match path.trim_start_matches('/').split_once('/') {
        _ if path.trim_start_matches('/').is_empty() => "SERVICE",
        Some((_, key)) if !key.is_empty() => "OBJECT",
        _ => "BUCKET",
    };
    Some(format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>MethodNotAllowed</Code><Message>{}</Message><Method>{}</Method><ResourceType>{resource}</ResourceType><RequestId>{}</RequestId></Error>"#,
        standard_message("MethodNotAllowed").unwrap_or_default(),
        escape(method),
        escape(request_id),
    ))
}

/// `s` as XML element text.
pub(super) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::{complete, no_such_operation};

    #[test]
    fn a_method_with_no_operation_is_method_not_allowed_on_its_resource() {
        let doc = format!(
            "{HEAD}<Error><Code>NotImplemented</Code><Message>Unknown operation</Message></Error>"
        );
        let out = no_such_operation(&doc, "POST", "/b/k/x", "R").unwrap();
        assert!(out.contains(
            "<Code>MethodNotAllowed</Code><Message>The specified method is not allowed against \
             this resource.</Message><Method>POST</Method><ResourceType>OBJECT</ResourceType>\
             <RequestId>R</RequestId>"
        ));
        assert!(no_such_operation(&doc, "POST", "/b", "R")
            .unwrap()
            .contains("<ResourceType>BUCKET</ResourceType>"));
        assert!(no_such_operation(&doc, "POST", "/b/", "R")
            .unwrap()
            .contains("<ResourceType>BUCKET</ResourceType>"));
        assert!(no_such_operation(&doc, "DELETE", "/", "R")
            .unwrap()
            .contains("<ResourceType>SERVICE</ResourceType>"));
        // An operation S3 has and this server does not serve stays NotImplemented.
        let doc = format!(
            "{HEAD}<Error><Code>NotImplemented</Code><Message>GetBucketWebsite is not \
             implemented yet</Message></Error>"
        );
        assert_eq!(no_such_operation(&doc, "GET", "/b", "R"), None);
    }

    const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

    #[test]
    fn a_bad_bucket_name_says_which_rule_it_breaks() {
        let doc = format!("{HEAD}<Error><Code>InvalidBucketName</Code></Error>");
        let out = complete(&doc, "REQ1", "/test1_bucket/a/b").unwrap();
        assert_eq!(
            out,
            format!(
                "{HEAD}<Error><Code>InvalidBucketName</Code><Message>The specified bucket is not \
                 valid. 'test1_bucket': '_' is not allowed: use lowercase \
                 letters, digits, dots and hyphens</Message><BucketName>test1_bucket</BucketName>\
                 <RequestId>REQ1</RequestId></Error>"
            )
        );
    }

    #[test]
    fn a_code_alone_gets_s3s_message_and_the_request_id() {
        let doc = format!("{HEAD}<Error><Code>InvalidURI</Code></Error>");
        let out = complete(&doc, "R", "/x").unwrap();
        assert!(out.contains(
            "<Code>InvalidURI</Code><Message>Couldn't parse the specified URI.</Message>\
             <RequestId>R</RequestId></Error>"
        ));
        // s3s refuses a form it cannot read with the code alone.
        let doc = format!("{HEAD}<Error><Code>MalformedPOSTRequest</Code></Error>");
        assert!(complete(&doc, "R", "/b").unwrap().contains(
            "<Message>The body of your POST request is not well-formed multipart/form-data.\
             </Message>"
        ));
        // A code with no standard message still gets the request id.
        let doc = format!("{HEAD}<Error><Code>SomethingNew</Code></Error>");
        assert!(complete(&doc, "R", "/")
            .unwrap()
            .ends_with("<Code>SomethingNew</Code><RequestId>R</RequestId></Error>"));
    }

    #[test]
    fn a_complete_document_and_other_bodies_are_left_alone() {
        let doc = format!(
            "{HEAD}<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not \
             exist</Message><RequestId>R</RequestId><BucketName>b</BucketName></Error>"
        );
        assert_eq!(complete(&doc, "R2", "/b"), None);
        // Our own message is kept; only the missing id goes in, before `</Error>`.
        let doc = format!("{HEAD}<Error><Code>AccessDenied</Code><Message>no</Message></Error>");
        assert_eq!(
            complete(&doc, "R", "/b").unwrap(),
            format!(
                "{HEAD}<Error><Code>AccessDenied</Code><Message>no</Message>\
                 <RequestId>R</RequestId></Error>"
            )
        );
        assert_eq!(complete("", "R", "/"), None);
        assert_eq!(complete("<ListBucketResult/>", "R", "/"), None);
    }
}
