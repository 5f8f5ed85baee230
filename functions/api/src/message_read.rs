//! `POST /v1/messages/{id}/read`: shows the customer blue ticks on their message (and every
//! earlier one of the chat) and, unless asked not to, "typing…" until the reply goes out or 25
//! seconds pass. Marking read again changes nothing, so without an `Idempotency-Key` the call is
//! simply made again; with one, a retry is answered from what the first request stored.

use crate::ApiState;
use crate::idempotent::{self, Idempotent};
use crate::principal::Principal;
use crate::problem::{FieldError, Problem};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::sync::Arc;
use switchboard_domain::{Direction, MessageId};
use switchboard_meta::graph::{GraphError, MarkRead, OnboardingFailure};
use switchboard_platform::business_token::{self, BusinessTokenError};
use switchboard_store::IdempotencyKey;

const IDEMPOTENCY_SCOPE: &str = "api:messages-read";

/// The optional body: `{"typing_indicator": bool}`, true when left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MarkReadRequest {
    typing_indicator: bool,
}

/// The answer: our message id, now read, and whether "typing…" was asked for.
#[derive(Debug, Clone, Serialize)]
struct MarkedRead {
    id: MessageId,
    status: &'static str,
    typing_indicator: bool,
}

fn field_error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// An empty body asks for the defaults; otherwise a JSON object whose only member may be
/// `typing_indicator`.
fn parse_request(body: &[u8]) -> Result<MarkReadRequest, Problem> {
    let mut request = MarkReadRequest {
        typing_indicator: true,
    };
    if body.trim_ascii().is_empty() {
        return Ok(request);
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| Problem::malformed(e.to_string()))?;
    let serde_json::Value::Object(fields) = value else {
        return Err(Problem::malformed("the body must be a JSON object"));
    };
    let mut errors = Vec::new();
    for (name, value) in &fields {
        match (name.as_str(), value) {
            ("typing_indicator", serde_json::Value::Bool(on)) => request.typing_indicator = *on,
            ("typing_indicator", _) => {
                errors.push(field_error(name, "must be true or false"));
            }
            _ => errors.push(field_error(
                name,
                "is not a member of a read request (only typing_indicator is)",
            )),
        }
    }
    if errors.is_empty() {
        Ok(request)
    } else {
        Err(Problem::validation(errors))
    }
}

pub(crate) async fn mark_read(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let request = parse_request(&body)?;
    // As for sends: a suspended tenant acts at Meta for no one, and a retry does not replay an
    // earlier answer as if it still could.
    if let Some(suspension) = state.store.tenant_suspension(&caller.tenant).await? {
        return Err(Problem::suspended(suspension.reason));
    }
    let id = MessageId::new(id);
    let Some(client_key) = idempotent::client_key(&headers)? else {
        let done = mark(&state, &caller, &id, request).await?;
        return Ok((StatusCode::OK, Json(done)).into_response());
    };
    // The key is bound to the message as well as the body: the same key used for another
    // message is a reuse, not a replay of the first message's answer.
    let bound: Vec<u8> = [id.as_str().as_bytes(), b"\n", &body[..]].concat();
    Idempotent {
        key: IdempotencyKey::Tenant {
            tenant: caller.tenant.clone(),
            scope: IDEMPOTENCY_SCOPE.into(),
            key: client_key.to_owned(),
        },
        body: &bound,
        status: StatusCode::OK,
        in_progress: "a request with this Idempotency-Key is in progress; retry later",
        reused: Problem::unprocessable_key,
    }
    .run(
        &state,
        || mark(&state, &caller, &id, request),
        idempotent::keep_all,
    )
    .await
}

async fn mark(
    state: &ApiState,
    caller: &Principal,
    id: &MessageId,
    request: MarkReadRequest,
) -> Result<MarkedRead, Problem> {
    let message = state
        .store
        .get_message(&caller.tenant, id)
        .await?
        .ok_or_else(|| Problem::not_found("message"))?;
    let wamid = match (message.direction, &message.wamid) {
        (Direction::Inbound, Some(wamid)) => wamid.clone(),
        (Direction::Inbound, None) => {
            return Err(Problem::field(
                "id",
                "is a customer's message Meta gave no id for; it cannot be marked read",
            ));
        }
        (Direction::Outbound, _) => {
            return Err(Problem::field(
                "id",
                "is a message this business sent; only a customer's (inbound) message can be marked read",
            ));
        }
    };
    // Read strongly consistent, as for sends: a number moved to another tenant no longer
    // speaks for this one.
    let route = state
        .store
        .find_phone_route(&message.phone_number_id)
        .await?
        .filter(|route| route.tenant_id == caller.tenant)
        .ok_or_else(|| {
            Problem::field(
                "id",
                "is on a phone number that no longer belongs to this account",
            )
        })?;
    let token = match business_token::business_token(
        &state.store,
        &state.vault,
        &caller.tenant,
        &route.waba_id,
    )
    .await
    {
        Ok(Some(token)) => token,
        Ok(None) => {
            return Err(Problem::field(
                "id",
                "is on a phone number whose WhatsApp Business token is not connected; connect the number again",
            ));
        }
        Err(e) => return Err(token_problem(e)),
    };
    let mut read = MarkRead::new(wamid.as_str());
    if request.typing_indicator {
        read = read.with_typing_indicator();
    }
    state
        .graph
        .mark_read(&token, message.phone_number_id.as_str(), &read)
        .await
        .map_err(|e| meta_problem(&e))?;
    tracing::info!(tenant = %caller.tenant, message = %id, typing_indicator = request.typing_indicator, "message marked read");
    state
        .audit
        .record(caller, "message.marked_read", Some(id.to_string()))
        .await;
    Ok(MarkedRead {
        id: id.clone(),
        status: "read",
        typing_indicator: request.typing_indicator,
    })
}

fn token_problem(e: BusinessTokenError) -> Problem {
    if e.is_retryable() {
        Problem::unavailable(&e)
    } else {
        Problem::internal(&e)
    }
}

/// Meta refusing the WABA's token is the business's to fix (422 `no_access`); any other
/// failure is Meta's (502). Only codes are logged: Meta's text may quote what we sent.
fn meta_problem(error: &GraphError) -> Problem {
    if let Some(OnboardingFailure::InvalidToken | OnboardingFailure::NoAccess) =
        OnboardingFailure::of(error)
    {
        tracing::info!(code = error.code(), "Meta refused the WABA's token");
        return Problem::meta_refused(
            "no_access",
            "Meta refused the WABA's token: connect the number again through Embedded Signup",
        );
    }
    tracing::warn!(
        code = error.code(),
        http_status = error.http_status(),
        "Meta did not mark the message read"
    );
    Problem::meta_unavailable("Meta did not mark the message read; retry later")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_body_asks_for_the_typing_indicator() {
        for body in [&b""[..], b"  \n", b"{}"] {
            assert_eq!(
                parse_request(body).map_err(|p| p.status),
                Ok(MarkReadRequest {
                    typing_indicator: true
                }),
                "{body:?}"
            );
        }
        assert_eq!(
            parse_request(br#"{"typing_indicator": false}"#).map_err(|p| p.status),
            Ok(MarkReadRequest {
                typing_indicator: false
            })
        );
    }

    #[test]
    fn other_members_and_other_values_are_refused_by_name() {
        let p = parse_request(br#"{"typing_indicator": true, "typing": true}"#)
            .expect_err("an unknown member is refused");
        assert_eq!((p.status, p.kind), (422, "/problems/validation"));
        assert_eq!(p.errors.len(), 1);
        assert_eq!(p.errors[0].field, "typing");
        for bad in [
            &br#"{"typing_indicator": "yes"}"#[..],
            br#"{"typing_indicator": null}"#,
        ] {
            let p = parse_request(bad).expect_err("not a boolean");
            assert_eq!(p.errors[0].field, "typing_indicator");
        }
        for malformed in [&b"[true]"[..], b"true", b"null", b"{"] {
            let p = parse_request(malformed).expect_err("not an object");
            assert_eq!((p.status, p.kind), (400, "/problems/malformed-request"));
        }
    }
}
