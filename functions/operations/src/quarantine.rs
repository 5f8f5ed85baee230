//! Quarantined webhook bodies: listed, and replayed through the webhook's own path.

use crate::OperationsState;
use crate::command::{
    DEFAULT_QUARANTINE_LIST, ErrorKind, MAX_QUARANTINE_LIST, OpError, QuarantineListing,
    QuarantineReplayed, limit,
};
use switchboard_webhook::{AcceptError, ReplayError, replay_from_quarantine};

pub(crate) async fn list(
    state: &OperationsState,
    requested: Option<u32>,
) -> Result<QuarantineListing, OpError> {
    let limit = limit(requested, DEFAULT_QUARANTINE_LIST, MAX_QUARANTINE_LIST)?;
    // One more than asked for says whether there are more.
    let max = i32::try_from(limit + 1).unwrap_or(i32::MAX);
    let mut keys = state
        .quarantine
        .list(max)
        .await
        .map_err(|e| OpError::new(ErrorKind::Aws, e.to_string(), true))?;
    let more = keys.len() > limit as usize;
    keys.truncate(limit as usize);
    tracing::info!(listed = keys.len(), more, "quarantine listed");
    Ok(QuarantineListing { keys, more })
}

pub(crate) async fn replay(
    state: &OperationsState,
    key: &str,
) -> Result<QuarantineReplayed, OpError> {
    let outcome = replay_from_quarantine(&state.quarantine, &state.intake, key)
        .await
        .map_err(replay_error)?;
    Ok(QuarantineReplayed {
        key: key.to_owned(),
        events: outcome.events,
        enqueued: outcome.accepted.enqueued,
        duplicates: outcome.accepted.duplicates,
    })
}

fn replay_error(e: ReplayError) -> OpError {
    let message = e.to_string();
    match e {
        ReplayError::NotQuarantineKey { .. } => OpError::invalid(message),
        ReplayError::NotFound { .. } => OpError::new(ErrorKind::NotFound, message, false),
        ReplayError::StillUnparseable { .. } => {
            OpError::new(ErrorKind::StillUnparseable, message, false)
        }
        ReplayError::InProgress { .. } => OpError::new(ErrorKind::InProgress, message, true),
        ReplayError::Blob(_) => OpError::new(ErrorKind::Aws, message, true),
        ReplayError::Accept(e) => accept_error(e),
    }
}

/// Enqueueing failed: the claims were released and the body (or record) stays, so the same
/// command may be sent again.
pub(crate) fn accept_error(e: AcceptError) -> OpError {
    let message = e.to_string();
    match e {
        AcceptError::Store(e) => OpError::new(ErrorKind::Aws, message, e.is_retryable()),
        AcceptError::Queue(_) | AcceptError::Blob(_) => OpError::new(ErrorKind::Aws, message, true),
        AcceptError::TooLarge { .. } | AcceptError::Encode(_) => {
            OpError::new(ErrorKind::Internal, message, false)
        }
    }
}
