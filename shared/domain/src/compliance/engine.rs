//! `decide`: the rules in their order. The order is part of the contract: the first rule that
//! refuses gives the reason, so a merchant always sees the most fundamental one (a suspended
//! tenant is told so, not that a template is paused).
//!
//! 1. A suspended tenant → `tenant_suspended`; a disconnected number → `channel_disconnected`.
//! 2. Text matching the Commerce Policy lexicon → `prohibited_content`, naming the category
//!    (before any consent rule: forbidden content goes to no one, consent or not).
//! 3. A template whose status is not Approved → `template_not_approved`, always: approval is
//!    never bypassed, not even inside the window (P16).
//! 4. Free-form: only inside the customer-service window (the customer's last message less
//!    than 24 hours ago and no 131047 since), else `window_closed`. Inside it, consent does
//!    not matter: the customer wrote to us, and the confirmation of an opt-out is itself such
//!    a reply.
//! 5. A template inside the window answers the customer: utility and authentication go;
//!    marketing still obeys an opt-out (6) and the cap and quiet hours (8).
//! 6. A template outside the window is business-initiated: it needs an opt-in recorded at
//!    some point (P15), else `no_opt_in`. Marketing needs the current state to be opted in:
//!    an opt-out → `opted_out` (checked first, in or out of the window), no current opt-in →
//!    `no_opt_in`. Utility and authentication to an opted-out customer who once opted in
//!    go: Meta's marketing opt-out covers marketing only, and these are the transactional
//!    messages the customer's own action triggers (see `consent::consent_denial`).
//! 7. Marketing from a tenant whose marketing is suspended → `marketing_suspended`.
//! 8. Marketing: the recipient's sends in the cap period at or over the cap →
//!    `frequency_cap`; then quiet hours in the recipient's local time → defer (`quiet_hours`)
//!    to the next allowed minute, never drop.
//!
//! Allowed is what is left.

use super::consent::consent_denial;
use super::decision::{Decision, DeferReason, DenyReason};
use super::frequency::cap_denial;
use super::input::{MessageKind, PolicyInput, TemplateCategory, TemplateStatus};
use super::prohibited;
use super::quiet_hours::{QuietVerdict, quiet_hours_verdict};
use super::recipient_zones::recipient_zones;
use super::window::{WindowState, window_state};

pub fn decide(input: &PolicyInput<'_>) -> Decision {
    if input.tenant.suspended {
        return Decision::deny(
            DenyReason::TenantSuspended,
            "Sending is suspended for this business pending a compliance review.",
        );
    }
    if !input.channel.connected {
        return Decision::deny(
            DenyReason::ChannelDisconnected,
            "This WhatsApp number is no longer connected to this business; reconnect it to send.",
        );
    }
    if let Some(category) = prohibited::screen(&input.message.screening_text) {
        return Decision::deny(
            DenyReason::ProhibitedContent,
            format!(
                "The message mentions {}, which the WhatsApp Commerce Policy does not allow \
                 (category: {}).",
                category.describe(),
                category.as_str()
            ),
        );
    }
    let window = window_state(&input.window, input.now);
    let (category, status) = match input.message.kind {
        MessageKind::FreeForm => {
            return match window {
                WindowState::Open { .. } => Decision::Allow,
                closed => Decision::deny(DenyReason::WindowClosed, window_closed_detail(closed)),
            };
        }
        MessageKind::Template { category, status } => (category, status),
    };
    if status != TemplateStatus::Approved {
        return Decision::deny(DenyReason::TemplateNotApproved, not_approved_detail(status));
    }
    let contact = &input.contact;
    if let Some((reason, detail)) = consent_denial(
        &contact.consent,
        contact.ever_opted_in,
        category,
        window.is_open(),
    ) {
        return Decision::deny(reason, detail);
    }
    if category != TemplateCategory::Marketing {
        return Decision::Allow;
    }
    let tenant = &input.tenant;
    if tenant.marketing_suspended {
        return Decision::deny(
            DenyReason::MarketingSuspended,
            "Marketing messages are suspended for this business pending a compliance review.",
        );
    }
    if let Some(detail) = cap_denial(
        tenant.frequency_cap,
        contact.recent_marketing_sends,
        input.now,
    ) {
        return Decision::deny(DenyReason::FrequencyCap, detail);
    }
    if let Some(quiet) = tenant.quiet_hours {
        let zones = recipient_zones(input.recipient.wa_id, tenant.timezone);
        if let QuietVerdict::DeferUntil(until) = quiet_hours_verdict(input.now, quiet, &zones) {
            return Decision::Defer {
                until,
                reason: DeferReason::QuietHours,
            };
        }
    }
    Decision::Allow
}

fn window_closed_detail(state: WindowState) -> &'static str {
    match state {
        WindowState::ClosedByError { .. } => {
            "WhatsApp closed this conversation (re-engagement required); only an approved \
             template can be sent until the customer writes again."
        }
        WindowState::Expired { .. } => {
            "More than 24 hours have passed since the customer's last message; only an \
             approved template can be sent until they write again."
        }
        WindowState::NeverOpened | WindowState::Open { .. } => {
            "The customer has not written to this business in the last 24 hours; only an \
             approved template can start the conversation."
        }
    }
}

fn not_approved_detail(status: TemplateStatus) -> String {
    match status {
        TemplateStatus::Unknown => "The template is not in this business's template list; \
                                    only templates WhatsApp approved can be sent."
            .into(),
        other => format!(
            "The template is {} on WhatsApp; only approved templates can be sent.",
            other.as_str()
        ),
    }
}
