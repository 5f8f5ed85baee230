//! Why a record failed, in words fit for a dead-letter copy's reason: what failed and the
//! error's kind, never what the record holds. Several errors quote their input in their
//! Display (serde's "invalid type: string \"…\"", an item that does not decode), and records
//! carry customers' messages and phone numbers, so reasons are built from the errors' safe
//! parts only; the full error stays in the function's log line.

use switchboard_store::StoreError;

/// Where and how the JSON failed, never the text around it.
pub fn json(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let kind = match e.classify() {
        Category::Syntax => "invalid JSON",
        Category::Data => "JSON of another shape",
        Category::Eof => "truncated JSON",
        Category::Io => "unreadable JSON",
    };
    format!("{kind} at line {} column {}", e.line(), e.column())
}

/// The operation and DynamoDB's error code, never its message nor an item's content (an item
/// that does not decode is quoted by its decoder).
pub fn store(e: &StoreError) -> String {
    match e {
        StoreError::Dynamo {
            operation, code, ..
        } => format!("DynamoDB {operation} failed ({code})"),
        // DynamoDB's cancellation codes, e.g. "ConditionalCheckFailed, None".
        StoreError::TransactionCancelled {
            operation, reasons, ..
        } => format!("DynamoDB transaction in {operation} was cancelled: {reasons}"),
        StoreError::Contended { operation } => format!("record contended in {operation}"),
        StoreError::InvalidKey { kind, reason } => format!("invalid {kind}: {reason}"),
        StoreError::InvalidTime(_) => "invalid time".into(),
        StoreError::InvalidCursor => "invalid page cursor".into(),
        StoreError::NotFound { what } => format!("{what} not found"),
        StoreError::WamidConflict { .. } => "the wamid already belongs to another message".into(),
        StoreError::MessageAlreadySent { .. } => "the message already has another wamid".into(),
        StoreError::IdempotencyPayloadMismatch => {
            "idempotency key reused with a different payload".into()
        }
        StoreError::LeaseLost => "idempotency claim no longer held".into(),
        StoreError::PhoneRouteOwner { .. } => {
            "the phone number is not routed to the expected tenant".into()
        }
        StoreError::EmailTaken => "e-mail address already registered".into(),
        StoreError::RefreshTokenReused => "refresh token reused".into(),
        StoreError::Encode(_) => "could not encode an item".into(),
        StoreError::Decode(_) => "a stored item is malformed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHONE: &str = "15551234567";
    const TEXT: &str = "my card number is 4111";

    #[test]
    fn json_reasons_name_the_failure_not_the_text() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Event {
            key: String,
        }
        let e = serde_json::from_str::<Event>(&format!(r#"{{"key": {PHONE}}}"#))
            .expect_err("not an event");
        assert!(e.to_string().contains(PHONE), "serde quotes its input: {e}");
        let reason = json(&e);
        assert!(!reason.contains(PHONE), "{reason}");
        assert!(
            reason.starts_with("JSON of another shape at line 1 column"),
            "{reason}"
        );
        let e = serde_json::from_str::<Event>(TEXT).expect_err("not JSON");
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
    }
}
