//! S3 presigned POST (browser form upload), which the SDK has no helper for: a SigV4-signed
//! POST policy, built by hand.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html>
//!
//! The policy is the string to sign: `base64(policy JSON)`, signed with HMAC-SHA256 under the
//! SigV4 signing key of the credential scope `{date}/{region}/s3/aws4_request`.

use super::MediaStoreError;
use aws_sdk_s3::config::Credentials;
use base64::Engine;
use hmac::digest::InvalidLength;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::time::Duration;
use time::OffsetDateTime;
use time::macros::format_description;

/// The longest a presigned POST may stay valid.
pub const MAX_PRESIGNED_POST: Duration = Duration::from_secs(900);

const OP: &str = "presign_post";
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// A form upload: POST `multipart/form-data` to `url` with every one of `fields`, then the
/// file last, as a part named `file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedPost {
    pub url: String,
    pub fields: BTreeMap<String, String>,
}

/// What a presigned POST allows.
pub(super) struct PostForm<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub content_type: &'a str,
    pub min_bytes: u64,
    pub max_bytes: u64,
    pub kms_key_id: Option<&'a str>,
    pub expires_in: Duration,
}

pub(super) struct SignedForm {
    /// The policy document, before base64.
    #[cfg_attr(not(test), allow(dead_code))]
    pub policy_json: String,
    pub fields: BTreeMap<String, String>,
}

impl PostForm<'_> {
    pub fn sign(
        &self,
        credentials: &Credentials,
        region: &str,
        now: OffsetDateTime,
    ) -> Result<SignedForm, MediaStoreError> {
        let invalid = |reason: String| MediaStoreError::Invalid {
            op: OP,
            key: self.key.to_owned(),
            reason,
        };
        if self.expires_in > MAX_PRESIGNED_POST {
            return Err(MediaStoreError::ExpiryTooLong {
                op: OP,
                key: self.key.to_owned(),
                requested_secs: self.expires_in.as_secs(),
                max_secs: MAX_PRESIGNED_POST.as_secs(),
            });
        }
        if self.expires_in.is_zero() {
            return Err(invalid("expiry of 0s".into()));
        }
        if self.min_bytes > self.max_bytes {
            return Err(invalid(format!(
                "min_bytes {} is over max_bytes {}",
                self.min_bytes, self.max_bytes
            )));
        }
        if region.is_empty() {
            return Err(invalid("no region to sign for".into()));
        }

        let now = now.to_offset(time::UtcOffset::UTC);
        let expiration = time::Duration::try_from(self.expires_in)
            .ok()
            .and_then(|d| now.checked_add(d))
            .ok_or_else(|| invalid("expiration out of range".into()))?;
        let date = now
            .format(format_description!("[year][month][day]"))
            .map_err(|e| invalid(e.to_string()))?;
        let amz_date = now
            .format(format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .map_err(|e| invalid(e.to_string()))?;
        let expiration = expiration
            .format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
            ))
            .map_err(|e| invalid(e.to_string()))?;
        let credential = format!(
            "{}/{date}/{region}/s3/aws4_request",
            credentials.access_key_id()
        );

        // Every field but `policy`, `x-amz-signature` and `file` must be in the policy.
        let mut fields = BTreeMap::new();
        fields.insert("key".to_owned(), self.key.to_owned());
        fields.insert("Content-Type".to_owned(), self.content_type.to_owned());
        fields.insert(
            "x-amz-server-side-encryption".to_owned(),
            "aws:kms".to_owned(),
        );
        if let Some(id) = self.kms_key_id {
            fields.insert(
                "x-amz-server-side-encryption-aws-kms-key-id".to_owned(),
                id.to_owned(),
            );
        }
        fields.insert("x-amz-algorithm".to_owned(), ALGORITHM.to_owned());
        fields.insert("x-amz-credential".to_owned(), credential);
        fields.insert("x-amz-date".to_owned(), amz_date);
        if let Some(token) = credentials.session_token() {
            fields.insert("x-amz-security-token".to_owned(), token.to_owned());
        }

        let mut conditions = vec![serde_json::json!({ "bucket": self.bucket })];
        conditions.push(serde_json::json!([
            "content-length-range",
            self.min_bytes,
            self.max_bytes
        ]));
        conditions.extend(fields.iter().map(|(name, value)| {
            let mut condition = serde_json::Map::new();
            condition.insert(name.clone(), serde_json::Value::String(value.clone()));
            serde_json::Value::Object(condition)
        }));
        let policy_json = serde_json::json!({
            "expiration": expiration,
            "conditions": conditions,
        })
        .to_string();
        let policy = base64::engine::general_purpose::STANDARD.encode(&policy_json);
        let signature = signing_key(credentials.secret_access_key(), &date, region, "s3")
            .and_then(|key| hmac(&key, policy.as_bytes()))
            .map(hex::encode)
            .map_err(|e| invalid(format!("HMAC: {e}")))?;
        fields.insert("policy".to_owned(), policy);
        fields.insert("x-amz-signature".to_owned(), signature);
        Ok(SignedForm {
            policy_json,
            fields,
        })
    }
}

/// The SigV4 signing key: `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
/// "aws4_request")`.
fn signing_key(
    secret: &str,
    date: &str,
    region: &str,
    service: &str,
) -> Result<[u8; 32], InvalidLength> {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes())?;
    let k_region = hmac(&k_date, region.as_bytes())?;
    let k_service = hmac(&k_region, service.as_bytes())?;
    hmac(&k_service, b"aws4_request")
}

/// HMAC-SHA256. (HMAC takes keys of every length: the error never happens.)
fn hmac(key: &[u8], data: &[u8]) -> Result<[u8; 32], InvalidLength> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key)?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    /// AWS's published example: "Examples of how to derive a signing key for Signature
    /// Version 4" (secret, 20120215, us-east-1, iam).
    #[test]
    fn the_signing_key_matches_aws_test_vector() {
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        )
        .unwrap();
        assert_eq!(
            hex::encode(key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    /// "Example: Browser-Based Upload using HTTP POST (Using AWS Signature Version 4)": the
    /// documented base64 policy and its documented signature.
    #[test]
    fn the_policy_signature_matches_aws_post_example() {
        const POLICY: &str = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "20151229",
            "us-east-1",
            "s3",
        )
        .unwrap();
        assert_eq!(
            hex::encode(hmac(&key, POLICY.as_bytes()).unwrap()),
            "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
        );
    }

    fn form<'a>(kms_key_id: Option<&'a str>) -> PostForm<'a> {
        PostForm {
            bucket: "sigv4examplebucket",
            key: "media/acme/2015/12/01HZX",
            content_type: "image/jpeg",
            min_bytes: 1,
            max_bytes: 5 * 1024 * 1024,
            kms_key_id,
            expires_in: Duration::from_secs(600),
        }
    }

    fn example_credentials(session_token: Option<&str>) -> Credentials {
        Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            session_token.map(str::to_owned),
            None,
            "test",
        )
    }

    #[test]
    fn the_policy_has_every_condition_and_the_signature_covers_it() {
        let now = datetime!(2015-12-29 00:00 UTC);
        let signed = form(Some("arn:aws:kms:us-east-1:123456789012:key/abc"))
            .sign(&example_credentials(Some("FQoGZXIvYXdz")), "us-east-1", now)
            .unwrap();
        let policy: serde_json::Value = serde_json::from_str(&signed.policy_json).unwrap();
        assert_eq!(policy["expiration"], "2015-12-29T00:10:00.000Z");
        let conditions = policy["conditions"].as_array().unwrap();
        let expected = [
            serde_json::json!({"bucket": "sigv4examplebucket"}),
            serde_json::json!(["content-length-range", 1, 5_242_880]),
            serde_json::json!({"key": "media/acme/2015/12/01HZX"}),
            serde_json::json!({"Content-Type": "image/jpeg"}),
            serde_json::json!({"x-amz-server-side-encryption": "aws:kms"}),
            serde_json::json!({"x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:us-east-1:123456789012:key/abc"}),
            serde_json::json!({"x-amz-algorithm": "AWS4-HMAC-SHA256"}),
            serde_json::json!({"x-amz-credential": "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"}),
            serde_json::json!({"x-amz-date": "20151229T000000Z"}),
            serde_json::json!({"x-amz-security-token": "FQoGZXIvYXdz"}),
        ];
        for condition in &expected {
            assert!(
                conditions.contains(condition),
                "{condition} missing from {conditions:?}"
            );
        }
        assert_eq!(conditions.len(), expected.len());

        // Every field the form sends is covered by the policy.
        let fields = &signed.fields;
        for (name, value) in fields {
            if name == "policy" || name == "x-amz-signature" {
                continue;
            }
            let condition = serde_json::json!({ name.as_str(): value });
            assert!(
                conditions.contains(&condition),
                "{name} is not in the policy"
            );
        }
        let policy_b64 = &fields["policy"];
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(policy_b64)
                .unwrap(),
            signed.policy_json.as_bytes()
        );
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "20151229",
            "us-east-1",
            "s3",
        )
        .unwrap();
        assert_eq!(
            fields["x-amz-signature"],
            hex::encode(hmac(&key, policy_b64.as_bytes()).unwrap())
        );
    }

    #[test]
    fn without_a_key_or_session_token_those_conditions_are_absent() {
        let signed = form(None)
            .sign(
                &example_credentials(None),
                "eu-west-1",
                datetime!(2026-11-01 10:00:00.5 +02:00),
            )
            .unwrap();
        assert!(!signed.fields.contains_key("x-amz-security-token"));
        assert!(
            !signed
                .fields
                .contains_key("x-amz-server-side-encryption-aws-kms-key-id")
        );
        assert!(!signed.policy_json.contains("x-amz-security-token"));
        assert!(!signed.policy_json.contains("kms-key-id"));
        // The clock is read in UTC.
        assert_eq!(signed.fields["x-amz-date"], "20261101T080000Z");
        assert!(
            signed
                .policy_json
                .contains(r#""expiration":"2026-11-01T08:10:00.500Z""#)
        );
        assert_eq!(
            signed.fields["x-amz-credential"],
            "AKIAIOSFODNN7EXAMPLE/20261101/eu-west-1/s3/aws4_request"
        );
    }

    #[test]
    fn a_long_expiry_or_an_inverted_range_is_refused() {
        let now = datetime!(2026-11-01 10:00 UTC);
        let mut long = form(None);
        long.expires_in = Duration::from_secs(901);
        assert!(matches!(
            long.sign(&example_credentials(None), "us-east-1", now),
            Err(MediaStoreError::ExpiryTooLong { max_secs: 900, .. })
        ));
        let mut inverted = form(None);
        inverted.min_bytes = 10;
        inverted.max_bytes = 9;
        assert!(matches!(
            inverted.sign(&example_credentials(None), "us-east-1", now),
            Err(MediaStoreError::Invalid { .. })
        ));
        let mut exactly = form(None);
        exactly.expires_in = MAX_PRESIGNED_POST;
        assert!(
            exactly
                .sign(&example_credentials(None), "us-east-1", now)
                .is_ok()
        );
    }
}
