//! `POST /v1/messages`: validate, ask the compliance policy (a refusal it can make at once is
//! a 422 `/problems/policy-denied` with its reason), store as queued, enqueue, answer 202
//! with our id.
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
use switchboard_domain::compliance::{Decision, DenyReason};
use switchboard_domain::{ContactKey, ConversationId, MessageId, MessageStatus, PhoneNumberId};
use switchboard_meta::graph::{MessageContent, OutboundMessage};
use switchboard_platform::metrics::Metrics;
use switchboard_platform::outbound_gate;
use switchboard_platform::outbox::{self, SubmitError};
use switchboard_store::{
    Found, IdempotencyKey, Lookup, MessageRecord, NewOutboundMessage, PolicyDecisionRecord,
};

/// WhatsApp's limit for a text body.
pub const MAX_TEXT_CHARS: usize = 4096;
const IDEMPOTENCY_SCOPE: &str = "api:messages";

/// `POST /v1/messages`: where to send (a conversation, or a business number and a recipient),
/// and the message in Meta's own shape: `type` and that type's object, plus an optional
/// `context.message_id` to quote the customer's message.
#[derive(Debug)]
struct CreateMessage {
    conversation_id: Option<String>,
    phone_number_id: Option<String>,
    to: Option<String>,
    reply_to: Option<String>,
    content: Result<MessageContent, Vec<FieldError>>,
}

/// The members a request may have beside the one named by `type`. `messaging_product` and
/// `recipient_type` are accepted (and must say what Meta's requests say) so that a body
/// written for the Cloud API works here unchanged.
const ENVELOPE: [&str; 7] = [
    "conversation_id",
    "phone_number_id",
    "to",
    "type",
    "context",
    "messaging_product",
    "recipient_type",
];

fn field_error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn parse_request(body: &[u8]) -> Result<CreateMessage, Problem> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| Problem::malformed(e.to_string()))?;
    let serde_json::Value::Object(mut fields) = value else {
        return Err(Problem::malformed("the body must be a JSON object"));
    };
    let mut errors = Vec::new();
    let string = |fields: &serde_json::Map<String, serde_json::Value>,
                  name: &str,
                  errors: &mut Vec<FieldError>| {
        match fields.get(name) {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(_) => {
                errors.push(field_error(name, "must be a string"));
                None
            }
        }
    };
    let conversation_id = string(&fields, "conversation_id", &mut errors);
    let phone_number_id = string(&fields, "phone_number_id", &mut errors);
    let to = string(&fields, "to", &mut errors);
    let kind = string(&fields, "type", &mut errors).unwrap_or_else(|| "text".to_owned());
    if string(&fields, "messaging_product", &mut errors).is_some_and(|p| p != "whatsapp") {
        errors.push(field_error("messaging_product", "must be \"whatsapp\""));
    }
    if string(&fields, "recipient_type", &mut errors).is_some_and(|r| r != "individual") {
        errors.push(field_error("recipient_type", "must be \"individual\""));
    }
    let reply_to = match fields.get("context") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Object(c)) => match (c.get("message_id"), c.len()) {
            (Some(serde_json::Value::String(id)), 1)
                if !id.trim().is_empty() && id.len() <= 256 =>
            {
                Some(id.trim().to_owned())
            }
            _ => {
                errors.push(field_error(
                    "context",
                    "must be {\"message_id\": the wamid of the message this one answers}",
                ));
                None
            }
        },
        Some(_) => {
            errors.push(field_error("context", "must be an object"));
            None
        }
    };
    for name in fields.keys() {
        if !ENVELOPE.contains(&name.as_str()) && *name != kind {
            errors.push(field_error(
                name,
                format!("is not a member of a {kind} message"),
            ));
        }
    }
    let content = match fields.remove(&kind) {
        _ if !MessageContent::TYPE_NAMES.contains(&kind.as_str()) => Err(vec![field_error(
            "type",
            format!("must be one of: {}", MessageContent::TYPE_NAMES.join(", ")),
        )]),
        None | Some(serde_json::Value::Null) => Err(vec![field_error(&kind, "is required")]),
        Some(object) => match MessageContent::from_request(&kind, object) {
            Err(e) => Err(vec![field_error(&e.field, e.message)]),
            Ok(content) => {
                let violations = switchboard_meta::graph::violations(&content);
                if violations.is_empty() {
                    Ok(content)
                } else {
                    Err(violations
                        .into_iter()
                        .map(|v| field_error(&v.field, v.message))
                        .collect())
                }
            }
        },
    };
    let content = match (content, errors.is_empty()) {
        (Ok(content), true) => Ok(content),
        (Ok(_), false) => Err(errors),
        (Err(mut more), _) => {
            errors.append(&mut more);
            Err(errors)
        }
    };
    Ok(CreateMessage {
        conversation_id,
        phone_number_id,
        to,
        reply_to,
        content,
    })
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Accepted {
    id: MessageId,
    conversation_id: ConversationId,
    status: MessageStatus,
    /// Present when the policy decided at once to hold the message (`deferred`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    decision: Option<PolicyDecisionRecord>,
}

#[derive(Debug)]
struct Validated {
    /// The tenant, the number's route, the contact and the conversation, as read for this
    /// request: the policy decides on them.
    found: Found,
    phone_number_id: PhoneNumberId,
    /// The number's WABA, from its route: the templates it may send are that WABA's.
    waba_id: String,
    to: ContactKey,
    reply_to: Option<String>,
    content: MessageContent,
}

pub(crate) async fn create(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let request = parse_request(&body)?;
    // One request reads the tenant and what the body names of the send (a reply's
    // conversation; a direct send's route, contact and conversation), before the idempotency
    // claim: a suspended tenant's retry must not replay an earlier acceptance as if sending
    // were still open, and nothing is stored or queued. The rest is judged after the claim,
    // as before, on what was read here.
    let addressed = parse_target(&request);
    let direct_conversation = match &addressed.target {
        Some(Target::Direct(pnid, to)) => Some(ConversationId::derive(pnid, to)),
        _ => None,
    };
    // A request with field errors reads only the tenant: the errors are its answer.
    let target = addressed
        .errors
        .is_empty()
        .then_some(addressed.target.as_ref())
        .flatten();
    let lookup = match (target, &direct_conversation) {
        (Some(Target::Conversation(id)), _) => Lookup {
            tenant: true,
            conversation: Some(id),
            ..Lookup::default()
        },
        (Some(Target::Direct(pnid, to)), Some(conversation)) => Lookup {
            phone_route: Some(pnid),
            ..outbound_gate::lookup(to, conversation)
        },
        _ => Lookup {
            tenant: true,
            ..Lookup::default()
        },
    };
    let found = state.store.look_up(&caller.tenant, &lookup).await?;
    if let Some(suspension) = found.tenant.as_ref().and_then(|t| t.suspension.clone()) {
        return Err(Problem::suspended(suspension.reason));
    }

    let Some(client_key) = idempotent::client_key(&headers)? else {
        let accepted = accept(
            &state,
            &caller,
            request,
            addressed,
            found,
            MessageId::generate(),
        )
        .await?;
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
        || accept(&state, &caller, request, addressed, found, message_id),
        idempotent::keep_all,
    )
    .await
}

async fn accept(
    state: &ApiState,
    caller: &Principal,
    request: CreateMessage,
    addressed: Addressed,
    found: Found,
    message_id: MessageId,
) -> Result<Accepted, Problem> {
    let v = validate(state, caller, request, addressed, found).await?;
    let now = state.clock.now();
    // The policy decides at once where it can: a refusal is answered 422 with the reason a
    // stored message would show, and nothing is stored or queued. The outbound function
    // decides again right before the send (and stays the authority: consent, the window and
    // the frequency cap can change while a message waits). A deferral is stored on the
    // message and answered at once; the outbound function holds it until its time.
    let conversation_id = ConversationId::derive(&v.phone_number_id, &v.to);
    let gated = outbound_gate::check_target(
        &state.store,
        &caller.tenant,
        &outbound_gate::Facts::of(&v.found),
        &outbound_gate::Target {
            waba_id: &v.waba_id,
            conversation_id: &conversation_id,
            contact: &v.to,
        },
        &v.content,
        now,
    )
    .await?;
    let deferral = matches!(gated.decision, Decision::Defer { .. })
        .then(|| outbound_gate::decision_record(&gated.decision, now));
    if let Decision::Deny { reason, detail } = gated.decision {
        // A retry whose first attempt was accepted (its idempotency claim lost) names the
        // message that exists: it is answered with that message, not refused anew.
        if state
            .store
            .get_message(&caller.tenant, &message_id)
            .await?
            .is_none()
        {
            // The reason only: never the recipient or the text.
            tracing::info!(tenant = %caller.tenant, %reason, "policy denied the message at once");
            // Repeated prohibited content holds the tenant's marketing for review (P20).
            if reason == DenyReason::ProhibitedContent
                && let Err(e) = state
                    .store
                    .count_prohibited_refusal(&caller.tenant, now)
                    .await
            {
                tracing::warn!(error = %e, "a prohibited-content refusal could not be counted");
            }
            count(state, crate::MESSAGES_DENIED);
            return Err(Problem::policy_denied(reason.as_str(), detail));
        }
    }
    let message_type = v.content.type_name();
    let text = preview_text(&v.content);
    let mut outbound = OutboundMessage::new(v.to.clone(), v.content);
    outbound.reply_to = v.reply_to;
    // Stored as Meta's request body: only the outbound function turns it into the call.
    let body_json = serde_json::to_string(&outbound).map_err(|e| Problem::internal(&e))?;
    let new_message = NewOutboundMessage {
        message_id: message_id.clone(),
        phone_number_id: v.phone_number_id.clone(),
        to: v.to.clone(),
        message_type: message_type.into(),
        text,
        body_json,
        created_at: now,
    };
    let submitted = outbox::submit(
        &state.store,
        &state.outbound_queue,
        &caller.tenant,
        &new_message,
        now,
    )
    .await
    .map_err(|e| match e {
        SubmitError::Store(e) => Problem::from(e),
        SubmitError::Queue(e) => Problem::unavailable(&e),
    })?;
    if submitted.new {
        tracing::info!(tenant = %caller.tenant, message = %message_id, message_type, "outbound message queued");
        // Who sent what (by id: never the recipient or the text).
        state
            .audit
            .record(caller, "message.sent", Some(message_id.to_string()))
            .await;
    }
    let mut status = submitted.status;
    let mut decision = None;
    // A new message is where this request stored it: no need to read its pointer.
    if let Some(record) = deferral
        && submitted.new
        && state
            .store
            .record_decision_at(
                &caller.tenant,
                &new_message.stored_at(&caller.tenant)?,
                &record,
            )
            .await?
    {
        status = MessageStatus::Deferred;
        decision = Some(record);
        count(state, crate::MESSAGES_DEFERRED);
    }
    if submitted.new {
        count(state, crate::MESSAGES_ACCEPTED);
    }
    Ok(Accepted {
        id: message_id,
        conversation_id: submitted.conversation_id,
        status,
        decision,
    })
}

/// One EMF document for one outcome of one request.
fn count(state: &ApiState, metric: &str) {
    let mut metrics = Metrics::new(crate::METRICS_SERVICE, Arc::clone(&state.metrics));
    metrics.count(metric, 1);
    metrics.flush();
}

/// What the conversation shows of the message: its text, caption or body.
fn preview_text(content: &MessageContent) -> Option<String> {
    match content {
        MessageContent::Text(t) => Some(t.body.clone()),
        MessageContent::Image(m) | MessageContent::Video(m) => m.caption.clone(),
        MessageContent::Document(d) => d.caption.clone(),
        MessageContent::Interactive(i) => i.body.clone(),
        _ => None,
    }
}

/// Where a request sends, from its body alone.
struct Addressed {
    /// What is wrong with the content and the target.
    errors: Vec<FieldError>,
    /// Only when it is well-formed.
    target: Option<Target>,
}

fn parse_target(r: &CreateMessage) -> Addressed {
    let mut errors = match &r.content {
        Ok(_) => Vec::new(),
        Err(errors) => errors.clone(),
    };
    let mut err = |field: &str, message: &str| errors.push(field_error(field, message));

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
    Addressed { errors, target }
}

/// Checks the request against what `found` holds for it (read before the idempotency claim:
/// the tenant, and what the body names), reading what only the stored conversation names.
async fn validate(
    state: &ApiState,
    caller: &Principal,
    r: CreateMessage,
    Addressed { errors, target }: Addressed,
    mut found: Found,
) -> Result<Validated, Problem> {
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let Some(target) = target else {
        return Err(Problem::field("to", "is required"));
    };

    let (phone_number_id, to, not_owned) = match target {
        Target::Conversation(_) => {
            let c = found
                .conversation
                .as_ref()
                .ok_or_else(|| Problem::field("conversation_id", "no such conversation"))?;
            let (phone_number_id, to) = (c.phone_number_id.clone(), c.contact.clone());
            // The conversation names the number and the recipient: their route and contact
            // in one more request.
            let more = state
                .store
                .look_up(
                    &caller.tenant,
                    &Lookup {
                        phone_route: Some(&phone_number_id),
                        contact: Some(&to),
                        ..Lookup::default()
                    },
                )
                .await?;
            found.phone_route = more.phone_route;
            found.contact = more.contact;
            (
                phone_number_id,
                to,
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
    let route = found
        .phone_route
        .as_ref()
        .filter(|route| route.tenant_id == caller.tenant);
    let Some(route) = route else {
        let (field, message) = not_owned;
        return Err(Problem::field(field, message));
    };
    let waba_id = route.waba_id.clone();
    let Ok(content) = r.content else {
        return Err(Problem::internal(&"content missing without a field error"));
    };
    // An upload is sent only once it passed its checks, and only as what it is.
    for stored in content.stored_media() {
        let field = stored.field;
        let upload = state
            .store
            .get_media_upload(&caller.tenant, &stored.upload_id)
            .await?
            .ok_or_else(|| Problem::field(&field, "is not an upload of this account"))?;
        if upload.state != switchboard_store::UploadState::Ready {
            return Err(Problem::field(
                &field,
                "is not ready to send: complete the upload first (POST /v1/media/{id}/complete)",
            ));
        }
        if upload.kind != stored.kind {
            return Err(Problem::field(
                &field,
                format!("is a {} upload, not {}", upload.kind, stored.kind),
            ));
        }
    }
    Ok(Validated {
        found,
        phone_number_id,
        waba_id,
        to,
        reply_to: r.reply_to,
        content,
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
        .map(|m| Json(shown(m)))
        .ok_or_else(|| Problem::not_found("message"))
}

/// A message as callers see it: where its media lies in S3 stays internal (a stored file is
/// reached through `GET /v1/messages/{id}/media`, a quarantined one not at all).
pub(crate) fn shown(mut message: MessageRecord) -> MessageRecord {
    if let Some(media) = &mut message.media {
        media.key = None;
    }
    message
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
