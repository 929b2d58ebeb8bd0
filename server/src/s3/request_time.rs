//! The time stamp of a request signed with Signature Version 2, checked as S3 checks it.
//!
//! A SigV4 signature covers its own time (`x-amz-date`, in the credential scope too) and s3s
//! refuses one more than 15 minutes off. s3s checks a SigV2 header signature without looking at
//! the time at all, so a SigV2 request taken off the wire could be sent again for ever. S3's
//! rule ("Signing and authenticating REST requests", time stamp requirement): an authenticated
//! request must carry a valid time stamp, `x-amz-date` when present, else `Date`, within 15
//! minutes of the server's clock. S3 checks it before the signature, and so does this check
//! (it runs in the front, before s3s): a request without a usable time is `403 AccessDenied`,
//! one too far off is `403 RequestTimeTooSkewed`, whether or not its signature would hold.
//!
//! Presigned SigV2 URLs carry `Expires` instead, which s3s checks; POST forms carry a policy
//! with its own expiration. Neither is touched here.

use http::HeaderMap;
use s3s::S3Error;

use super::errors;

/// How far a request's time may be from the server's (S3's: 15 minutes).
pub const MAX_SKEW_SECS: i64 = 15 * 60;

/// S3's message for a request without a time it can read.
const NO_TIME: &str = "AWS authentication requires a valid Date or x-amz-date header";

/// Check the time of a request signed with a SigV2 `Authorization` header (others pass).
/// `now` is the server's clock in Unix seconds.
pub fn check(headers: &HeaderMap, now: i64) -> Result<(), S3Error> {
    let sigv2 = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS "));
    if !sigv2 {
        return Ok(());
    }
    // `x-amz-date` wins when present, even empty: it is what the signer meant to be read.
    let raw = headers
        .get("x-amz-date")
        .or_else(|| headers.get(http::header::DATE));
    let Some(raw) = raw else {
        return Err(errors::s3_error("AccessDenied", 403, NO_TIME));
    };
    let text = raw.to_str().unwrap_or_default().trim();
    let Some(at) = parse(text) else {
        return Err(errors::s3_error("AccessDenied", 403, NO_TIME));
    };
    if (at - now).abs() > MAX_SKEW_SECS {
        let e = errors::s3_error(
            "RequestTimeTooSkewed",
            403,
            "The difference between the request time and the current time is too large.",
        );
        let e = errors::with_element(e, "RequestTime", text);
        let e = errors::with_element(e, "ServerTime", &iso8601(now));
        return Err(errors::with_element(
            e,
            "MaxAllowedTimeSkewMilliseconds",
            &(MAX_SKEW_SECS * 1000).to_string(),
        ));
    }
    Ok(())
}

/// A time stamp in the forms HTTP allows (IMF-fixdate, RFC 850, asctime), RFC 2822 with a
/// numeric zone (`+0000`, as s3cmd writes it), or RFC 1123 with the zone named `UTC` or `UT`
/// (Go's `time.RFC1123` in UTC, as rclone's SigV2 signer writes it: `Sat, 05 Dec 2026 08:45:11
/// UTC`), in Unix seconds. Times before 1970 are refused, as S3 refuses them (AccessDenied, not
/// a skew).
fn parse(text: &str) -> Option<i64> {
    let gmt;
    let text = match text
        .strip_suffix(" UTC")
        .or_else(|| text.strip_suffix(" UT"))
    {
        Some(stem) => {
            gmt = format!("{stem} GMT");
            gmt.as_str()
        }
        None => text,
    };
    if let Ok(t) = httpdate::parse_http_date(text) {
        let secs = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
        return i64::try_from(secs).ok();
    }
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc2822)
        .ok()?
        .unix_timestamp();
    (t >= 0).then_some(t)
}

/// `now` as S3 writes `ServerTime` (`2026-12-05T07:22:05Z`).
fn iso8601(now: i64) -> String {
    seedbed_engine::iam::authorizer::iso8601(u64::try_from(now).unwrap_or(0) * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    /// 2026-12-05T07:22:05Z
    const NOW: i64 = 1_796_455_325;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn code(r: Result<(), S3Error>) -> Option<String> {
        r.err().map(|e| e.code().as_str().to_string())
    }

    const V2: (&str, &str) = ("authorization", "AWS AKID:c2lnbmF0dXJl");

    #[test]
    fn a_sigv2_request_on_time_passes() {
        let h = headers(&[V2, ("date", "Sat, 05 Dec 2026 07:20:00 GMT")]);
        assert_eq!(code(check(&h, NOW)), None);
        // RFC 2822 with a numeric zone (s3cmd), the zone named UTC (rclone, Go's RFC1123).
        for date in [
            "Sat, 05 Dec 2026 07:30:00 +0000",
            "Sat, 05 Dec 2026 07:30:00 UTC",
            "Sat, 05 Dec 2026 07:30:00 UT",
        ] {
            let h = headers(&[V2, ("date", date)]);
            assert_eq!(code(check(&h, NOW)), None, "{date}");
        }
        let h = headers(&[V2, ("date", "Sat, 05 Dec 2026 06:30:00 UTC")]);
        assert_eq!(
            code(check(&h, NOW)).as_deref(),
            Some("RequestTimeTooSkewed")
        );
    }

    #[test]
    fn a_sigv2_request_off_by_more_than_15_minutes_is_skewed_either_way() {
        for date in [
            "Sat, 05 Dec 2026 07:07:04 GMT",
            "Sat, 05 Dec 2026 07:37:06 GMT",
            "Tue, 07 Jul 2010 21:53:04 GMT",
            "Tue, 07 Jul 9999 21:53:04 GMT",
        ] {
            let h = headers(&[V2, ("date", date)]);
            assert_eq!(
                code(check(&h, NOW)).as_deref(),
                Some("RequestTimeTooSkewed"),
                "{date}"
            );
        }
    }

    #[test]
    fn a_sigv2_request_without_a_readable_time_is_denied() {
        for h in [
            headers(&[V2]),
            headers(&[V2, ("date", "Bad Date")]),
            headers(&[V2, ("x-amz-date", "")]),
            headers(&[V2, ("date", "Tue, 07 Jul 1950 21:53:04 GMT")]),
        ] {
            assert_eq!(
                code(check(&h, NOW)).as_deref(),
                Some("AccessDenied"),
                "{h:?}"
            );
        }
    }

    #[test]
    fn x_amz_date_is_read_before_date() {
        // A good Date does not rescue a bad x-amz-date (S3 reads x-amz-date when present) ...
        let h = headers(&[
            V2,
            ("date", "Sat, 05 Dec 2026 07:22:00 GMT"),
            ("x-amz-date", "Tue, 07 Jul 2010 21:53:04 GMT"),
        ]);
        assert_eq!(
            code(check(&h, NOW)).as_deref(),
            Some("RequestTimeTooSkewed")
        );
        // ... and a stale Date does not spoil a good one.
        let h = headers(&[
            V2,
            ("date", "Tue, 07 Jul 2010 21:53:04 GMT"),
            ("x-amz-date", "Sat, 05 Dec 2026 07:22:00 GMT"),
        ]);
        assert_eq!(code(check(&h, NOW)), None);
    }

    #[test]
    fn other_requests_are_left_to_their_own_checks() {
        // SigV4 (s3s checks its time), anonymous, and a presigned SigV2 URL (no header).
        let stale = ("date", "Tue, 07 Jul 2010 21:53:04 GMT");
        for h in [
            headers(&[
                (
                    "authorization",
                    "AWS4-HMAC-SHA256 Credential=AKID/20101231/us-east-1/s3/aws4_request",
                ),
                stale,
            ]),
            headers(&[stale]),
        ] {
            assert_eq!(code(check(&h, NOW)), None);
        }
    }

    #[test]
    fn skew_errors_name_both_times() {
        let h = headers(&[V2, ("date", "Tue, 07 Jul 2010 21:53:04 GMT")]);
        let e = check(&h, NOW).unwrap_err();
        let extra = e.headers().expect("the extra elements ride in headers");
        assert_eq!(
            extra["x-seedbed-error-request-time"],
            "Tue, 07 Jul 2010 21:53:04 GMT"
        );
        assert_eq!(extra["x-seedbed-error-server-time"], "2026-12-05T07:22:05Z");
    }
}
