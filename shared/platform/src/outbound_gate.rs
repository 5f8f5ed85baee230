//! Gathers the facts the compliance engine decides on (the API, at once where it can, and
//! the outbound function right before a send): the tenant's
//! settings, the contact's consent and recent marketing, the conversation's window, the
//! template's review state. The engine itself is pure (`switchboard_domain::compliance`).

use switchboard_domain::compliance::{
    self, ChannelFacts, ConsentState, ContactFacts, Decision, MessageFacts, MessageKind,
    PolicyInput, RecipientFacts, TemplateCategory, TemplateStatus, TenantFacts, WindowFacts,
};
use switchboard_domain::consent::{ConsentState as ConsentName, OptInSource, OptOutSource};
use switchboard_domain::{ContactKey, ConversationId, TenantId};
use switchboard_meta::graph::MessageContent;
use switchboard_store::{
    DecisionOutcome, MarketingConsent, MessageRecord, PolicyDecisionRecord, Store, StoreError,
    Tenant,
};
use time::OffsetDateTime;

/// What the gate decided and whether the message is a marketing template (its send is then
/// counted for the frequency cap).
pub struct GateResult {
    pub decision: Decision,
    pub marketing: bool,
}

/// The gate on a stored message (the outbound function, right before its send), with the
/// tenant as the caller just read it.
pub async fn check(
    store: &Store,
    tenant: &TenantId,
    tenant_record: Option<&Tenant>,
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
    decide_for(store, tenant, tenant_record, &target, content, now).await
}

/// Where a message goes: the number's WABA (whose templates it may use), its conversation
/// and its recipient. All the gate needs of a message besides its content, so a message can
/// be checked before it is stored (the API, deciding at once where it can).
pub struct Target<'a> {
    pub waba_id: &'a str,
    pub conversation_id: &'a ConversationId,
    pub contact: &'a ContactKey,
}

pub async fn check_target(
    store: &Store,
    tenant: &TenantId,
    target: &Target<'_>,
    content: &MessageContent,
    now: OffsetDateTime,
) -> Result<GateResult, StoreError> {
    let record = store.get_tenant(tenant).await?;
    decide_for(store, tenant, record.as_ref(), target, content, now).await
}

async fn decide_for(
    store: &Store,
    tenant: &TenantId,
    record: Option<&Tenant>,
    target: &Target<'_>,
    content: &MessageContent,
    now: OffsetDateTime,
) -> Result<GateResult, StoreError> {
    let waba_id = target.waba_id;
    let settings = record.map(|t| t.settings.clone()).unwrap_or_default();
    let suspended = record.is_some_and(|t| t.suspension.is_some());
    let marketing_suspended = record.is_some_and(|t| t.marketing_suspension.is_some());
    // Independent reads: issued together, so the decision waits for the slowest, not the sum.
    let template = async {
        match content.template() {
            None => Ok(None),
            Some((name, language)) => store
                .get_template(tenant, waba_id, name, language)
                .await
                .map(Some),
        }
    };
    let (contact, conversation, template) = futures::try_join!(
        store.get_contact(tenant, target.contact),
        store.get_conversation(tenant, target.conversation_id),
        template,
    )?;

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
    let consent = contact.as_ref().map(|c| &c.consent);
    let sends: &[OffsetDateTime] = contact
        .as_ref()
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
            last_customer_message_at: conversation
                .as_ref()
                .and_then(|c| c.last_customer_message_at),
            closed_by_error_at: conversation
                .as_ref()
                .and_then(|c| c.window_closed_by_error_at),
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
