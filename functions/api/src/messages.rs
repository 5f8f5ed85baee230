//! `POST /v1/messages`: validate, store as queued, enqueue, answer 202 with our id.
//! An `Idempotency-Key` header makes the send idempotent: the message id derives from it, so
//! a retry, even after a crash, names the message the first request created.

use crate::ApiState;
use crate::idempotent::{self, Idempotent};
use crate::principal::Principal;
use crate::problem::{FieldError, Problem};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use switchboard_domain::jobs::OutboundJob;
use switchboard_domain::outbound::OutboundPayload;
use switchboard_domain::{ContactKey, ConversationId, MessageId, MessageStatus, PhoneNumberId};
use switchboard_store::{IdempotencyKey, MessageRecord, NewOutboundMessage};

/// WhatsApp's limit for a text body.
pub const MAX_TEXT_CHARS: usize = 4096;
const IDEMPOTENCY_SCOPE: &str = "api:messages";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateMessage {
    /// Reply in an existing conversation…
    conversation_id: Option<String>,
    /// …or name the business number and the recipient (phone number or BSUID).
    phone_number_id: Option<String>,
    to: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    text: Option<TextBody>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TextBody {
    body: Option<String>,
    #[serde(default)]
    preview_url: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Accepted {
    id: MessageId,
    conversation_id: ConversationId,
    status: MessageStatus,
}

#[derive(Debug)]
struct Validated {
    phone_number_id: PhoneNumberId,
    to: ContactKey,
    body: String,
    preview_url: bool,
}

pub(crate) async fn create(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let request: CreateMessage =
        serde_json::from_slice(&body).map_err(|e| Problem::malformed(e.to_string()))?;
    // Before the idempotency claim: a suspended tenant's retry must not replay an earlier
    // acceptance as if sending were still open, and nothing is stored or queued.
    if let Some(suspension) = state.store.tenant_suspension(&caller.tenant).await? {
        return Err(Problem::suspended(suspension.reason));
    }

    let Some(client_key) = idempotent::client_key(&headers)? else {
        let accepted = accept(&state, &caller, request, MessageId::generate()).await?;
        return Ok((StatusCode::ACCEPTED, Json(accepted)).into_response());
    };
    // The message id follows from the key: if the claim expired or its holder crashed, the
    // retry creates the same message, which the store and the queue already know.
    let message_id = MessageId::for_idempotency_key(&caller.tenant, IDEMPOTENCY_SCOPE, client_key);
    Idempotent {
        key: IdempotencyKey::Tenant {
            tenant: caller.tenant.clone(),
            scope: IDEMPOTENCY_SCOPE.into(),
            key: client_key.to_owned(),
        },
        body: &body,
        status: StatusCode::ACCEPTED,
        in_progress: "a request with this Idempotency-Key is in progress; retry later",
        reused: Problem::unprocessable_key,
    }
    .run(
        &state,
        || accept(&state, &caller, request, message_id),
        idempotent::keep_all,
    )
    .await
}

async fn accept(
    state: &ApiState,
    caller: &Principal,
    request: CreateMessage,
    message_id: MessageId,
) -> Result<Accepted, Problem> {
    let v = validate(state, caller, request).await?;
    let payload = OutboundPayload::Text {
        body: v.body.clone(),
        preview_url: v.preview_url,
    };
    let body_json = serde_json::to_string(&payload).map_err(|e| Problem::internal(&e))?;
    let recorded = state
        .store
        .create_outbound_message(
            &caller.tenant,
            &NewOutboundMessage {
                message_id: message_id.clone(),
                phone_number_id: v.phone_number_id.clone(),
                to: v.to.clone(),
                message_type: "text".into(),
                text: Some(v.body),
                body_json,
                created_at: state.clock.now(),
            },
        )
        .await?;
    let (conversation_id, status) = match recorded {
        switchboard_store::Recorded::New {
            conversation_id, ..
        } => (conversation_id, MessageStatus::Queued),
        switchboard_store::Recorded::Duplicate {
            conversation_id, ..
        } => {
            // A retry of a request that created the message: answer with what it is now.
            let stored = state
                .store
                .get_message(&caller.tenant, &message_id)
                .await?
                .ok_or_else(|| Problem::internal(&"duplicate message not readable"))?;
            if stored.status != MessageStatus::Queued {
                return Ok(Accepted {
                    id: message_id,
                    conversation_id,
                    status: stored.status,
                });
            }
            (conversation_id, MessageStatus::Queued)
        }
    };
    let job = OutboundJob {
        tenant_id: caller.tenant.clone(),
        message_id: message_id.clone(),
    };
    let job_json = serde_json::to_string(&job).map_err(|e| Problem::internal(&e))?;
    let group = OutboundJob::group_id(&caller.tenant, &v.to.storage_key());
    // The deduplication id is the message id: a retried request does not queue it twice.
    if let Err(e) = state
        .outbound_queue
        .send_fifo(&job_json, &group, message_id.as_str())
        .await
    {
        // The message is stored as queued but will not be sent: record that, answer 503.
        let error = switchboard_store::DeliveryError {
            code: 0,
            title: Some("Could not be queued".into()),
            details: None,
        };
        if let Err(mark) = state
            .store
            .mark_failed(&caller.tenant, &message_id, &error, state.clock.now())
            .await
        {
            tracing::error!(error = %mark, "could not mark an unqueued message failed");
        }
        return Err(Problem::unavailable(&e));
    }
    tracing::info!(tenant = %caller.tenant, message = %message_id, "outbound message queued");
    // Who sent what (by id: never the recipient or the text).
    state
        .audit
        .record(caller, "message.sent", Some(message_id.to_string()))
        .await;
    Ok(Accepted {
        id: message_id,
        conversation_id,
        status,
    })
}

async fn validate(
    state: &ApiState,
    caller: &Principal,
    r: CreateMessage,
) -> Result<Validated, Problem> {
    let mut errors = Vec::new();
    let mut err = |field: &str, message: &str| {
        errors.push(FieldError {
            field: field.to_owned(),
            message: message.to_owned(),
        })
    };
    match r.kind.as_deref() {
        None | Some("text") => {}
        Some(_) => err("type", "only \"text\" messages can be sent yet"),
    }
    let text = r.text.as_ref();
    let body = text.and_then(|t| t.body.clone()).unwrap_or_default();
    if text.is_none() {
        err("text", "is required");
    } else if body.trim().is_empty() {
        err("text.body", "must not be empty");
    } else if body.chars().count() > MAX_TEXT_CHARS {
        err("text.body", "must be at most 4096 characters");
    }
    let preview_url = text.is_some_and(|t| t.preview_url);

    let target = match (&r.conversation_id, &r.phone_number_id, &r.to) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            err(
                "conversation_id",
                "give either conversation_id or phone_number_id and to, not both",
            );
            None
        }
        (Some(c), None, None) => Some(Target::Conversation(ConversationId::new(c.clone()))),
        (None, p, t) => {
            if p.as_deref().is_none_or(|p| p.trim().is_empty()) {
                err(
                    "phone_number_id",
                    "is required when conversation_id is not given",
                );
            }
            let to = t.as_deref().map(str::trim).unwrap_or_default();
            let recipient = parse_recipient(to);
            if recipient.is_none() {
                err(
                    "to",
                    "must be a phone number in international format (digits, optional +) or a business-scoped user id",
                );
            }
            match (p, recipient) {
                (Some(p), Some(to)) if !p.trim().is_empty() => {
                    Some(Target::Direct(PhoneNumberId::new(p.trim()), to))
                }
                _ => None,
            }
        }
    };
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let Some(target) = target else {
        return Err(Problem::field("to", "is required"));
    };

    let (phone_number_id, to, not_owned) = match target {
        Target::Conversation(id) => {
            let c = state
                .store
                .get_conversation(&caller.tenant, &id)
                .await?
                .ok_or_else(|| Problem::field("conversation_id", "no such conversation"))?;
            (
                c.phone_number_id,
                c.contact,
                (
                    "conversation_id",
                    "is on a phone number that no longer belongs to this account",
                ),
            )
        }
        Target::Direct(pnid, to) => (
            pnid,
            to,
            ("phone_number_id", "is not a phone number of this account"),
        ),
    };
    // The route is read strongly consistent: a number moved to another tenant is refused at
    // once, for replies in its old conversations too. The outbound function checks again
    // right before sending, for messages accepted before a move.
    let owned = state
        .store
        .find_phone_route(&phone_number_id)
        .await?
        .is_some_and(|route| route.tenant_id == caller.tenant);
    if !owned {
        let (field, message) = not_owned;
        return Err(Problem::field(field, message));
    }
    Ok(Validated {
        phone_number_id,
        to,
        body,
        preview_url,
    })
}

enum Target {
    Conversation(ConversationId),
    Direct(PhoneNumberId, ContactKey),
}

/// `+15551234567` / `15551234567` → wa_id; a BSUID (`CC.xxxx`) → user id.
pub(crate) fn parse_recipient(to: &str) -> Option<ContactKey> {
    let digits = to.strip_prefix('+').unwrap_or(to);
    if (6..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Some(ContactKey::WaId(digits.to_owned()));
    }
    let (country, rest) = to.split_once('.')?;
    let looks_like_bsuid = country.len() == 2
        && country.bytes().all(|b| b.is_ascii_uppercase())
        && !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_alphanumeric());
    looks_like_bsuid.then(|| ContactKey::UserId(to.to_owned()))
}

pub(crate) async fn get_one(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<MessageRecord>, Problem> {
    state
        .store
        .get_message(&caller.tenant, &MessageId::new(id))
        .await?
        .map(Json)
        .ok_or_else(|| Problem::not_found("message"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_phone_numbers_or_bsuids() {
        assert_eq!(
            parse_recipient("+15551234567"),
            Some(ContactKey::WaId("15551234567".into()))
        );
        assert_eq!(
            parse_recipient("15551234567"),
            Some(ContactKey::WaId("15551234567".into()))
        );
        assert_eq!(
            parse_recipient("US.13491208655302741918"),
            Some(ContactKey::UserId("US.13491208655302741918".into()))
        );
        for bad in [
            "",
            "+",
            "12345",
            "1555-123",
            "hello",
            "us.123",
            "US.",
            "1234567890123456",
        ] {
            assert_eq!(parse_recipient(bad), None, "{bad}");
        }
    }
}
