//! Decides on the facts the compliance engine needs (the API, at once where it can, and the
//! outbound function right before a send): the tenant's settings, the contact's consent and
//! recent marketing, the conversation's window, the template's review state. The caller reads
//! the tenant, contact and conversation ([`Facts`]) in the one request it makes for the
//! records a send needs (`Store::look_up`, with [`lookup`]); the gate reads the template. The
//! engine itself is pure (`switchboard_domain::compliance`).

use switchboard_domain::compliance::{
    self, ChannelFacts, ConsentState, ContactFacts, Decision, MessageFacts, MessageKind,
    PolicyInput, RecipientFacts, TemplateCategory, TemplateStatus, TenantFacts, WindowFacts,
};
use switchboard_domain::consent::{ConsentState as ConsentName, OptInSource, OptOutSource};
use switchboard_domain::{ContactKey, ConversationId, TenantId};
use switchboard_meta::graph::MessageContent;
use switchboard_store::{
    ContactRecord, ConversationRecord, DecisionOutcome, Found, Lookup, MarketingConsent,
    MessageRecord, PolicyDecisionRecord, Store, StoreError, Tenant,
};
use time::OffsetDateTime;

/// What the gate decided and whether the message is a marketing template (its send is then
/// counted for the frequency cap).
pub struct GateResult {
    pub decision: Decision,
    pub marketing: bool,
}

/// The records the gate decides on besides the template, as the caller just read them for
/// this decision. The outbound function reads them right before the send (consent, the
/// window and the tenant's settings can change while a message waits), never taking them
/// from the API's acceptance.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts<'a> {
    pub tenant: Option<&'a Tenant>,
    pub contact: Option<&'a ContactRecord>,
    pub conversation: Option<&'a ConversationRecord>,
}

impl<'a> Facts<'a> {
    /// The facts in what [`lookup`] found.
    pub fn of(found: &'a Found) -> Self {
        Self {
            tenant: found.tenant.as_ref(),
            contact: found.contact.as_ref(),
            conversation: found.conversation.as_ref(),
        }
    }
}

/// The reads [`Facts`] needs for a message to `contact` in `conversation`; the caller adds its
/// own (the number's route, a campaign) to the same request.
pub fn lookup<'a>(contact: &'a ContactKey, conversation: &'a ConversationId) -> Lookup<'a> {
    Lookup {
        tenant: true,
        contact: Some(contact),
        conversation: Some(conversation),
        ..Lookup::default()
    }
}

/// The gate on a stored message (the outbound function, right before its send).
pub async fn check(
    store: &Store,
    tenant: &TenantId,
    facts: &Facts<'_>,
    waba_id: &str,
    message: &MessageRecord,
    content: &MessageContent,
    now: OffsetDateTime,
) -> Result<GateResult, StoreError> {
    let target = Target {
        waba_id,
        conversation_id: &message.conversation_id,
        contact: &message.contact,
    };
    check_target(store, tenant, facts, &target, content, now).await
}

/// Where a message goes: the number's WABA (whose templates it may use), its conversation
/// and its recipient. All the gate needs of a message besides its content, so a message can
/// be checked before it is stored (the API, deciding at once where it can).
pub struct Target<'a> {
    pub waba_id: &'a str,
    pub conversation_id: &'a ConversationId,
    pub contact: &'a ContactKey,
}

/// The gate on a message not stored yet (the API), on the facts the caller read for `target`.
pub async fn check_target(
    store: &Store,
    tenant: &TenantId,
    facts: &Facts<'_>,
    target: &Target<'_>,
    content: &MessageContent,
    now: OffsetDateTime,
) -> Result<GateResult, StoreError> {
    let record = facts.tenant;
    let waba_id = target.waba_id;
    let settings = record.map(|t| t.settings.clone()).unwrap_or_default();
    let suspended = record.is_some_and(|t| t.suspension.is_some());
    let marketing_suspended = record.is_some_and(|t| t.marketing_suspension.is_some());
    // A template message's review state, read now: Meta may have paused or rejected it.
    let template = match content.template() {
        None => None,
        Some((name, language)) => Some(store.get_template(tenant, waba_id, name, language).await?),
    };
    let contact = facts.contact;
    let conversation = facts.conversation;

    let kind = match template {
        None => MessageKind::FreeForm,
        Some(template) => {
            match template {
                Some(t) => MessageKind::Template {
                    // A template we hold without a category Meta names is treated as marketing:
                    // the strictest reading.
                    category: TemplateCategory::from_meta(&t.category)
                        .unwrap_or(TemplateCategory::Marketing),
                    status: TemplateStatus::from_meta(&t.status),
                },
                None => MessageKind::Template {
                    category: TemplateCategory::Marketing,
                    status: TemplateStatus::Unknown,
                },
            }
        }
    };
    let marketing = matches!(
        kind,
        MessageKind::Template {
            category: TemplateCategory::Marketing,
            ..
        }
    );
    let consent = contact.map(|c| &c.consent);
    let sends: &[OffsetDateTime] = contact
        .map(|c| c.marketing_sent_at.as_slice())
        .unwrap_or_default();
    let input = PolicyInput {
        now,
        tenant: TenantFacts::from_settings(&settings, suspended, marketing_suspended),
        // The caller checked the route just before: the number is this tenant's.
        channel: ChannelFacts { connected: true },
        contact: ContactFacts {
            consent: consent.map(engine_consent).unwrap_or_default(),
            ever_opted_in: consent.is_some_and(|c| c.ever_opted_in),
            recent_marketing_sends: sends,
        },
        window: WindowFacts {
            last_customer_message_at: conversation.and_then(|c| c.last_customer_message_at),
            closed_by_error_at: conversation.and_then(|c| c.window_closed_by_error_at),
        },
        recipient: RecipientFacts::from_contact(target.contact),
        message: MessageFacts {
            kind,
            screening_text: content.screening_text(),
        },
    };
    Ok(GateResult {
        decision: compliance::decide(&input),
        marketing,
    })
}

/// The stored consent as the engine reads it. A source the store holds but this version does
/// not know reads as the strictest one of its side.
fn engine_consent(c: &MarketingConsent) -> ConsentState {
    match c.state {
        ConsentName::Unknown => ConsentState::Unknown,
        ConsentName::OptedIn => ConsentState::OptedIn {
            at: c.opted_in_at.unwrap_or(OffsetDateTime::UNIX_EPOCH),
            source: c
                .source
                .as_deref()
                .and_then(|s| s.parse().ok())
                .unwrap_or(OptInSource::Other),
        },
        ConsentName::OptedOut => ConsentState::OptedOut {
            at: c.opted_out_at.unwrap_or(OffsetDateTime::UNIX_EPOCH),
            source: c
                .source
                .as_deref()
                .and_then(|s| s.parse().ok())
                .unwrap_or(OptOutSource::BusinessRecorded),
        },
    }
}

/// The decision as it is stored on the message.
pub fn decision_record(decision: &Decision, at: OffsetDateTime) -> PolicyDecisionRecord {
    match decision {
        Decision::Allow => PolicyDecisionRecord {
            outcome: DecisionOutcome::Allow,
            reason: None,
            detail: None,
            until: None,
            at,
        },
        Decision::Deny { reason, detail } => PolicyDecisionRecord {
            outcome: DecisionOutcome::Deny,
            reason: Some(reason.as_str().to_owned()),
            detail: Some(detail.clone()),
            until: None,
            at,
        },
        Decision::Defer { until, reason } => PolicyDecisionRecord {
            outcome: DecisionOutcome::Defer,
            reason: Some(reason.as_str().to_owned()),
            detail: Some(format!(
                "quiet hours in the recipient's time zone; it goes at {until}"
            )),
            until: Some(*until),
            at,
        },
    }
}
