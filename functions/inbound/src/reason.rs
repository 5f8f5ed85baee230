//! Why a record failed, in words fit for its dead-letter copy: what failed and the error's
//! kind, never what the record holds. Several errors quote their input in their Display
//! (serde's "invalid type: string \"…\"", an item that does not decode), and an inbound
//! record carries customers' messages and phone numbers, so these are built from the errors'
//! safe parts only; the full error stays in the function's log line.

use crate::ApplyError;
use crate::campaigns::DispatchError;
use switchboard_platform::blob::BlobError;
pub(crate) use switchboard_platform::failure_reason::{json, store};

pub(crate) fn apply(e: &ApplyError) -> String {
    match e {
        ApplyError::Store(e) => store(e),
        ApplyError::Encode(e) => format!("could not encode the event: {}", json(e)),
        ApplyError::Queue(_) => "could not queue its follow-up job".into(),
    }
}

pub(crate) fn dispatch(e: &DispatchError) -> String {
    match e {
        DispatchError::Store(e) => store(e),
        DispatchError::Queue(_) => "could not queue its messages or the next chunk".into(),
        DispatchError::InProgress(_) | DispatchError::NoJobQueue => e.to_string(),
    }
}

/// The stored copy's key is named by the event's SHA-256, so it says nothing of the content.
pub(crate) fn blob(e: &BlobError) -> String {
    match e {
        BlobError::S3 { op, key, .. } => format!("s3 {op} {key} failed"),
        BlobError::NotStoredEvent { reason, .. } => {
            format!("the pointer does not lead to a stored event: {reason}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_meta::webhook::WebhookEvent;
    use switchboard_store::StoreError;

    const PHONE: &str = "15551234567";
    const TEXT: &str = "my card number is 4111";

    #[test]
    fn json_reasons_name_the_failure_not_the_text() {
        let bodies = [
            format!(r#"{{"key": {PHONE}}}"#),
            format!(
                r#"{{"key":"k","waba_id":"w","field":"messages","phone_number_id":null,"display_phone_number":null,"payload":{{"{TEXT}":1}}}}"#
            ),
        ];
        for body in &bodies {
            let e = serde_json::from_str::<WebhookEvent>(body).expect_err("not an event");
            assert!(
                e.to_string().contains(PHONE) || e.to_string().contains(TEXT),
                "serde quotes its input: {e}"
            );
            let reason = json(&e);
            assert!(
                !reason.contains(PHONE) && !reason.contains("4111"),
                "{reason}"
            );
            assert!(
                reason.starts_with("JSON of another shape at line 1 column"),
                "{reason}"
            );
        }
        let e = serde_json::from_str::<WebhookEvent>(TEXT).expect_err("not JSON");
        assert_eq!(json(&e), "invalid JSON at line 1 column 1");
    }

    #[test]
    fn store_reasons_keep_the_operation_and_code_only() {
        let e = StoreError::Dynamo {
            operation: "PutItem",
            code: "ValidationException".into(),
            message: format!("value {PHONE} is invalid"),
            retryable: false,
        };
        assert_eq!(store(&e), "DynamoDB PutItem failed (ValidationException)");
        let e = StoreError::Decode(format!("invalid type: string \"{TEXT}\""));
        assert_eq!(store(&e), "a stored item is malformed");
        let e = ApplyError::Store(StoreError::Contended {
            operation: "record_message",
        });
        assert_eq!(apply(&e), "record contended in record_message");
    }

    #[test]
    fn blob_reasons_keep_the_key_and_drop_the_sdk_text() {
        let e = BlobError::S3 {
            op: "read",
            key: "events/ab.json".into(),
            reason: "NoSuchKey: the key events/ab.json does not exist".into(),
        };
        assert_eq!(blob(&e), "s3 read events/ab.json failed");
    }
}
