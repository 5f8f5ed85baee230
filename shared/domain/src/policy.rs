//! The policy gate every outbound message passes. Until the compliance engine lands it allows
//! everything; it is the one place WhatsApp policy and consent will be enforced.

use crate::ids::{ContactKey, TenantId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyDecision {
    Allow,
    /// Not sent; recorded as failed with this reason.
    Deny {
        reason: String,
    },
}

pub struct OutboundIntent<'a> {
    pub tenant: &'a TenantId,
    pub recipient: &'a ContactKey,
    /// `text`, `template`, `image`, …
    pub message_type: &'a str,
}

pub trait PolicyGate: Send + Sync {
    fn check(&self, intent: &OutboundIntent<'_>) -> PolicyDecision;
}

/// Placeholder until the compliance issue: allows every message.
#[derive(Debug, Default, Clone, Copy)]
pub struct AllowAll;

impl PolicyGate for AllowAll {
    fn check(&self, _intent: &OutboundIntent<'_>) -> PolicyDecision {
        PolicyDecision::Allow
    }
}
