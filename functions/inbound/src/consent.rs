//! The customer's own consent actions on WhatsApp: a message that is an opt-out keyword (STOP,
//! BAJA, ARRÊT, …) or an opt-in keyword (START, …), and Meta's `user_preferences` webhook
//! (`stop` / `resume` of marketing messages). Both change the contact's consent for the whole
//! tenant, every number and WABA of it.
//!
//! A keyword opt-out (or an opt-in that changed something) gets one confirmation back, in the
//! keyword's language (`compliance::confirmations`; English for a word several languages
//! share). Its message id is derived from the customer's wamid, so a redelivered webhook meets
//! the message already stored instead of sending a second confirmation.

use crate::InboundState;
use crate::apply::ApplyError;
use serde::Deserialize;
use switchboard_domain::compliance::{ConsentKeyword, confirmation, consent_keyword_match};
use switchboard_domain::consent::{ConsentProof, OptInOutcome, OptInSource, OptOutSource};
use switchboard_domain::{ContactKey, MessageId, PhoneNumberId, TenantId, Wamid};
use switchboard_meta::graph::{MessageContent, OutboundMessage};
use switchboard_meta::webhook::{InboundMessage, MessageContent as Inbound};
use switchboard_platform::outbox::{self, SubmitError};
use switchboard_store::{NewOutboundMessage, inbound_message_id};
use time::OffsetDateTime;

const CONFIRMATION_SCOPE: &str = "consent-confirmation";

/// What the customer wrote, if it can be a keyword: a text, or the label of a button they
/// tapped (marketing templates carry a "Stop promotions" quick reply).
fn keyword_text(message: &InboundMessage) -> Option<&str> {
    match &message.content {
        Inbound::Text(t) => Some(&t.body),
        Inbound::Button(b) => Some(&b.text),
        _ => None,
    }
}

/// Applies a consent keyword, if the message is one.
pub(crate) async fn apply_keyword(
    state: &InboundState,
    tenant: &TenantId,
    pnid: &PhoneNumberId,
    sender: &ContactKey,
    message: &InboundMessage,
    sent_at: OffsetDateTime,
) -> Result<(), ApplyError> {
    let Some(text) = keyword_text(message) else {
        return Ok(());
    };
    let Some(keyword) = consent_keyword_match(text) else {
        return Ok(());
    };
    // In the keyword's language; English for a word several languages share.
    let body = confirmation(keyword.effect, keyword.language);
    let confirmation_id = MessageId::for_idempotency_key(tenant, CONFIRMATION_SCOPE, &message.id);
    match keyword.effect {
        ConsentKeyword::OptOut => {
            // True also on a redelivery of the message whose opt-out is in force: one that
            // died after storing the opt-out still sends its confirmation, exactly once (the
            // confirmation's id is derived from the message's).
            let ours = state
                .store
                .opt_out_by_message(
                    tenant,
                    sender,
                    &inbound_message_id(&Wamid::new(message.id.to_string())),
                    sent_at,
                )
                .await?;
            tracing::info!(ours, "the customer opted out by keyword");
            if ours {
                confirm_with(state, tenant, pnid, sender, confirmation_id, body).await?;
            }
        }
        ConsentKeyword::OptIn => {
            let proof = ConsentProof {
                text: Some(text.trim().to_owned()),
                url: None,
                captured_at: Some(
                    sent_at
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                ),
                recorded_by: "customer".into(),
            };
            let outcome = state
                .store
                .opt_in(tenant, sender, OptInSource::Keyword, &proof, sent_at)
                .await?;
            tracing::info!(?outcome, "the customer opted in by keyword");
            if outcome == OptInOutcome::OptedIn {
                confirm_with(state, tenant, pnid, sender, confirmation_id, body).await?;
            }
        }
    }
    Ok(())
}

async fn confirm_with(
    state: &InboundState,
    tenant: &TenantId,
    pnid: &PhoneNumberId,
    to: &ContactKey,
    id: MessageId,
    body: &str,
) -> Result<(), ApplyError> {
    let outbound = OutboundMessage::new(to.clone(), MessageContent::text(body));
    let now = state.clock.now();
    let message = NewOutboundMessage {
        message_id: id,
        phone_number_id: pnid.clone(),
        to: to.clone(),
        message_type: "text".into(),
        text: Some(body.to_owned()),
        body_json: serde_json::to_string(&outbound)?,
        created_at: now,
    };
    match outbox::submit(&state.store, &state.outbound, tenant, &message, now).await {
        Ok(_) => Ok(()),
        Err(SubmitError::Store(e)) => Err(e.into()),
        // Recorded failed by the outbox; the consent change itself is stored.
        Err(SubmitError::Queue(e)) => {
            tracing::warn!(error = %e, "the consent confirmation could not be queued");
            Ok(())
        }
    }
}

/// One entry of a `user_preferences` change.
#[derive(Debug, Deserialize)]
struct Preference {
    wa_id: Option<String>,
    user_id: Option<String>,
    category: Option<String>,
    value: Option<String>,
    timestamp: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Preferences {
    #[serde(default)]
    user_preferences: Vec<Preference>,
}

/// Meta's `user_preferences` webhook: the customer stopped or resumed marketing messages in
/// WhatsApp itself (or signed up through a signup link).
pub(crate) async fn apply_preferences(
    state: &InboundState,
    tenant: &TenantId,
    value: &str,
    now: OffsetDateTime,
) -> Result<(), ApplyError> {
    let Ok(preferences) = serde_json::from_str::<Preferences>(value) else {
        tracing::warn!("a user_preferences change could not be read; kept raw");
        return Ok(());
    };
    for p in preferences.user_preferences {
        if p.category.as_deref() != Some("marketing_messages") {
            continue;
        }
        let contact = match (p.wa_id, p.user_id) {
            (Some(wa_id), _) => ContactKey::WaId(wa_id),
            (None, Some(user_id)) => ContactKey::UserId(user_id),
            (None, None) => continue,
        };
        let at = p
            .timestamp
            .and_then(|t| match t {
                serde_json::Value::Number(n) => n.as_i64(),
                serde_json::Value::String(s) => s.parse().ok(),
                _ => None,
            })
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
            .unwrap_or(now);
        match p.value.as_deref() {
            Some("stop") => {
                state
                    .store
                    .opt_out(tenant, &contact, OptOutSource::UserPreferences, "meta", at)
                    .await?;
            }
            Some("resume") | Some("signup") => {
                let proof = ConsentProof {
                    text: p.value.clone(),
                    url: None,
                    captured_at: None,
                    recorded_by: "meta".into(),
                };
                state
                    .store
                    .opt_in(tenant, &contact, OptInSource::UserPreferences, &proof, at)
                    .await?;
            }
            _ => {}
        }
    }
    Ok(())
}
