//! Why a job failed, in words fit for its dead-letter copy: what failed and the error's kind,
//! never an item's content. A store error that does not decode quotes the item (here the
//! message the media is on, or the tenant's sealed token), so store errors give their
//! operation and code only; the full error stays in the function's log line.

use crate::FetchError;
use switchboard_platform::business_token::BusinessTokenError;
pub(crate) use switchboard_platform::failure_reason::json;
use switchboard_platform::failure_reason::store;

pub(crate) fn fetch(e: &FetchError) -> String {
    match e {
        // Built by `fetch` from Meta's and S3's answers, which hold neither tokens nor content.
        FetchError::Retryable(reason) => reason.clone(),
        FetchError::Token(BusinessTokenError::Store(e)) => format!("the Meta token: {}", store(e)),
        FetchError::Token(e @ (BusinessTokenError::Vault(_) | BusinessTokenError::Malformed)) => {
            format!("the Meta token: {e}")
        }
        FetchError::Store(e) => format!("store: {}", store(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_store::StoreError;

    #[test]
    fn store_failures_keep_the_operation_and_code_only() {
        let decode = FetchError::Store(StoreError::Decode(
            "invalid type: string \"see you at 5, 15551234567\"".into(),
        ));
        assert_eq!(fetch(&decode), "store: a stored item is malformed");
        let token = FetchError::Token(BusinessTokenError::Store(StoreError::Dynamo {
            operation: "GetItem",
            code: "ThrottlingException".into(),
            message: "Rate exceeded for T#acme".into(),
            retryable: true,
        }));
        assert_eq!(
            fetch(&token),
            "the Meta token: DynamoDB GetItem failed (ThrottlingException)"
        );
        assert_eq!(
            fetch(&FetchError::Token(BusinessTokenError::Malformed)),
            "the Meta token: the stored token record is malformed"
        );
        let meta = FetchError::Retryable("the media host answered HTTP 500".into());
        assert_eq!(fetch(&meta), "the media host answered HTTP 500");
    }

    #[test]
    fn undecodable_jobs_are_described_without_their_text() {
        let e = serde_json::from_str::<switchboard_domain::jobs::MediaJob>(
            r#"{"tenant_id": "acme", "filename": ["holiday with 15551234567.jpg"]}"#,
        )
        .expect_err("not a job");
        let reason = json(&e);
        assert!(!reason.contains("15551234567"), "{reason}");
        assert!(
            reason.starts_with("JSON of another shape at line 1"),
            "{reason}"
        );
    }
}
