//! Store errors, each classified retryable (try the same call again later) or permanent.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use switchboard_domain::{MessageId, PhoneNumberId, TenantId, Wamid};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A DynamoDB call failed.
    #[error("DynamoDB {operation} failed ({code}): {message}")]
    Dynamo {
        operation: &'static str,
        code: String,
        message: String,
        retryable: bool,
    },
    /// A transaction was cancelled for a reason other than a condition we asked for.
    #[error("DynamoDB transaction in {operation} was cancelled: {reasons}")]
    TransactionCancelled {
        operation: &'static str,
        reasons: String,
        retryable: bool,
    },
    /// Concurrent writers kept replacing the record between our write and our read.
    #[error("record contended in {operation}")]
    Contended { operation: &'static str },
    /// A value that becomes part of a key is unusable there.
    #[error("invalid {kind}: {reason}")]
    InvalidKey {
        kind: &'static str,
        reason: &'static str,
    },
    #[error("invalid time: {0}")]
    InvalidTime(String),
    /// The cursor is malformed, tampered with, expired, or from another listing (another tenant
    /// or conversation): the client's mistake, never retryable.
    #[error("invalid page cursor")]
    InvalidCursor,
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// The wamid is already recorded for a different message.
    #[error("wamid {wamid} already belongs to another message")]
    WamidConflict { wamid: Wamid },
    /// The message was already sent under another wamid.
    #[error("message {message_id} already has another wamid")]
    MessageAlreadySent { message_id: MessageId },
    /// The idempotency key was used before with a different request payload.
    #[error("idempotency key reused with a different payload")]
    IdempotencyPayloadMismatch,
    /// The idempotency claim passed to another caller (its lease expired) or is gone.
    #[error("idempotency claim no longer held")]
    LeaseLost,
    /// A conditional write of a phone route found another owner than it expected: the number
    /// belongs to another tenant (create), or its owner is not the one a move named (or it
    /// has no route). `current_owner` is who holds it now, if anyone.
    #[error("phone number {phone_number_id} is not routed to the expected tenant")]
    PhoneRouteOwner {
        phone_number_id: PhoneNumberId,
        current_owner: Option<TenantId>,
    },
    /// The e-mail address already signs in (to this or another tenant).
    #[error("e-mail address already registered")]
    EmailTaken,
    /// A refresh token was presented again after it had been exchanged: its family is revoked.
    #[error("refresh token reused")]
    RefreshTokenReused,
    #[error("could not encode item: {0}")]
    Encode(String),
    #[error("stored item is malformed: {0}")]
    Decode(String),
}

impl StoreError {
    /// Throttling, transaction conflicts, timeouts and 5xx: the same call may succeed later.
    /// Everything else fails the same way again.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Dynamo { retryable, .. }
            | StoreError::TransactionCancelled { retryable, .. } => *retryable,
            StoreError::Contended { .. } => true,
            StoreError::InvalidKey { .. }
            | StoreError::InvalidTime(_)
            | StoreError::InvalidCursor
            | StoreError::NotFound { .. }
            | StoreError::WamidConflict { .. }
            | StoreError::MessageAlreadySent { .. }
            | StoreError::IdempotencyPayloadMismatch
            | StoreError::LeaseLost
            | StoreError::PhoneRouteOwner { .. }
            | StoreError::EmailTaken
            | StoreError::RefreshTokenReused
            | StoreError::Encode(_)
            | StoreError::Decode(_) => false,
        }
    }
}

/// Error codes DynamoDB documents as transient.
const RETRYABLE_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
    "TransactionInProgressException",
    "ReplicatedWriteConflictException",
];

pub(crate) fn is_retryable_code(code: &str) -> bool {
    RETRYABLE_CODES.contains(&code)
}

pub(crate) fn from_sdk<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (code, retryable) = match &err {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("Unknown").to_owned();
            let server_side = service.raw().status().as_u16() >= 500;
            let retryable = server_side || is_retryable_code(&code);
            (code, retryable)
        }
        SdkError::TimeoutError(_) => ("Timeout".to_owned(), true),
        SdkError::DispatchFailure(failure) => ("DispatchFailure".to_owned(), !failure.is_user()),
        SdkError::ResponseError(_) => ("ResponseError".to_owned(), true),
        SdkError::ConstructionFailure(_) => ("ConstructionFailure".to_owned(), false),
        _ => ("Unknown".to_owned(), false),
    };
    let message = match err.message() {
        Some(m) => m.to_owned(),
        None => DisplayErrorContext(&err).to_string(),
    };
    StoreError::Dynamo {
        operation,
        code,
        message,
        retryable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_and_conflicts_are_retryable_validation_is_not() {
        assert!(is_retryable_code("ProvisionedThroughputExceededException"));
        assert!(is_retryable_code("TransactionConflictException"));
        assert!(!is_retryable_code("ValidationException"));
        assert!(!is_retryable_code("ConditionalCheckFailedException"));
        assert!(!StoreError::InvalidCursor.is_retryable());
        assert!(StoreError::Contended { operation: "begin" }.is_retryable());
    }
}
