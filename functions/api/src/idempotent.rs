//! The one way a POST is made idempotent: claim the key bound to the request's hash, do the
//! work, store the response under the key, answer a retry from the store. "In progress" is
//! never an answer a retry can take for success: it gets 409 and tries again later.

use crate::ApiState;
use crate::problem::Problem;
use axum::Json;
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::future::Future;
use switchboard_store::{Begin, IdempotencyKey, StoreError};
use time::Duration;

/// Longer than the API function may run (29 s), so a live request is never taken over.
pub(crate) const CLAIM_FOR: Duration = Duration::seconds(60);
/// How long a client may retry with the same key and get the first answer.
pub(crate) const KEEP_FOR: Duration = Duration::hours(24);
const MAX_KEY_LEN: usize = 255;

/// The client's `Idempotency-Key`, if it sent one.
pub(crate) fn client_key(headers: &HeaderMap) -> Result<Option<&str>, Problem> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    v.to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= MAX_KEY_LEN)
        .map(Some)
        .ok_or_else(|| {
            Problem::field(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            )
        })
}

/// How one endpoint's requests are made idempotent.
pub(crate) struct Idempotent<'a> {
    pub key: IdempotencyKey,
    /// The request body; the key is bound to its hash.
    pub body: &'a [u8],
    /// The status a success (and its replay) answers with.
    pub status: StatusCode,
    /// What a request sent while the first is still running is told.
    pub in_progress: &'static str,
    /// What the same key with another body is told.
    pub reused: fn() -> Problem,
}

impl Idempotent<'_> {
    /// Runs `work` once per key. `keep` is what is stored for replays: the response, minus
    /// anything shown only once (a generated PIN, a secret).
    pub(crate) async fn run<T, W, Fut>(
        self,
        state: &ApiState,
        work: W,
        keep: impl FnOnce(&T) -> Result<serde_json::Value, Problem>,
    ) -> Result<Response, Problem>
    where
        T: Serialize,
        W: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, Problem>>,
    {
        let request_hash = hex::encode(Sha256::digest(self.body));
        let lease = match state
            .idempotency
            .begin(&self.key, &request_hash, state.clock.now(), CLAIM_FOR)
            .await
        {
            Ok(Begin::Started(lease)) => lease,
            Ok(Begin::Completed { response }) => {
                let stored: serde_json::Value = response
                    .as_deref()
                    .and_then(|r| serde_json::from_str(r).ok())
                    .ok_or_else(|| {
                        Problem::internal(&"stored idempotent response is unreadable")
                    })?;
                if let Some(problem) = stored_problem(&stored) {
                    let status = problem
                        .get("status")
                        .and_then(serde_json::Value::as_u64)
                        .and_then(|s| u16::try_from(s).ok())
                        .and_then(|s| StatusCode::from_u16(s).ok())
                        .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
                    return Ok((
                        status,
                        [
                            (header::CONTENT_TYPE, crate::problem::CONTENT_TYPE),
                            (HeaderName::from_static("idempotent-replayed"), "true"),
                        ],
                        Json(problem.clone()),
                    )
                        .into_response());
                }
                return Ok(
                    (self.status, [("idempotent-replayed", "true")], Json(stored)).into_response(),
                );
            }
            Ok(Begin::InProgress { .. }) => return Err(Problem::conflict(self.in_progress)),
            Err(StoreError::IdempotencyPayloadMismatch) => return Err((self.reused)()),
            Err(e) => return Err(e.into()),
        };
        let result = work().await;
        match &result {
            Ok(done) => {
                let stored = keep(done)
                    .and_then(|v| serde_json::to_string(&v).map_err(|e| Problem::internal(&e)))?;
                if let Err(e) = state
                    .idempotency
                    .complete(
                        &self.key,
                        &lease,
                        Some(&stored),
                        state.clock.now(),
                        KEEP_FOR,
                    )
                    .await
                {
                    // The work is done and derived from the key: a retry finds it again.
                    tracing::warn!(error = %e, "could not store the idempotent response");
                }
            }
            // A decision (the compliance policy refusing the message) is the answer to the
            // request, not a failure to carry it out: it is kept like a success, so a retry
            // with the same key and body gets the same 422 and never creates the message the
            // first answer refused, even if the facts have changed since (a new send is a new
            // key). Other errors release the key: a validation error follows from the body
            // alone and is found again, and a transient failure must stay retryable.
            Err(problem) if problem.is_decision() => {
                let stored = serde_json::to_value(problem)
                    .map(|p| serde_json::json!({ PROBLEM_MEMBER: p }))
                    .and_then(|v| serde_json::to_string(&v))
                    .map_err(|e| Problem::internal(&e))?;
                if let Err(e) = state
                    .idempotency
                    .complete(
                        &self.key,
                        &lease,
                        Some(&stored),
                        state.clock.now(),
                        KEEP_FOR,
                    )
                    .await
                {
                    tracing::warn!(error = %e, "could not store the idempotent refusal");
                }
            }
            Err(_) => {
                if let Err(e) = state.idempotency.release(&self.key, &lease).await {
                    tracing::warn!(error = %e, "could not release the idempotency key");
                }
            }
        }
        let done = result?;
        Ok((self.status, Json(done)).into_response())
    }
}

/// How a kept problem is stored: the only member of an object, a shape no success answer
/// has (each is an object with its own members).
const PROBLEM_MEMBER: &str = "problem+json";

fn stored_problem(stored: &serde_json::Value) -> Option<&serde_json::Value> {
    match stored.as_object() {
        Some(o) if o.len() == 1 => o.get(PROBLEM_MEMBER),
        _ => None,
    }
}

/// The response as stored, unchanged.
pub(crate) fn keep_all<T: Serialize>(done: &T) -> Result<serde_json::Value, Problem> {
    serde_json::to_value(done).map_err(|e| Problem::internal(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_problem_is_told_apart_from_a_success() {
        let problem =
            serde_json::to_value(Problem::policy_denied("no_opt_in", "no opt-in")).unwrap();
        let stored = serde_json::json!({ PROBLEM_MEMBER: problem.clone() });
        assert_eq!(stored_problem(&stored), Some(&problem));
        let accepted =
            serde_json::json!({ "id": "m1", "conversation_id": "c1", "status": "queued" });
        assert_eq!(stored_problem(&accepted), None);
        assert_eq!(stored_problem(&serde_json::json!([problem])), None);
    }
}
