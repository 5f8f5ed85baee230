//! What the engine answers, and the reason codes merchants, metrics and the API see.
//!
//! The codes are stable: they are stored with failed messages, counted in metrics and shown
//! in the API, so a code is never renamed or reused; a new rule gets a new code.

use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Allow,
    /// Never sent. `detail` is written for the merchant: it never holds the customer's number
    /// or the message's text, so it can be stored and shown as it is.
    Deny {
        reason: DenyReason,
        detail: String,
    },
    /// Not now, and not dropped: ask again at `until` (a whole minute, later than `now`).
    Defer {
        #[serde(with = "time::serde::rfc3339")]
        until: OffsetDateTime,
        reason: DeferReason,
    },
}

impl Decision {
    pub fn is_allow(&self) -> bool {
        matches!(self, Decision::Allow)
    }

    pub(crate) fn deny(reason: DenyReason, detail: impl Into<String>) -> Self {
        Decision::Deny {
            reason,
            detail: detail.into(),
        }
    }

    /// The reason code, `None` for an allow.
    pub fn reason_code(&self) -> Option<&'static str> {
        match self {
            Decision::Allow => None,
            Decision::Deny { reason, .. } => Some(reason.as_str()),
            Decision::Defer { reason, .. } => Some(reason.as_str()),
        }
    }
}

macro_rules! reason_codes {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $code:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every code, in rule order: for documentation and exhaustive tests.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)+
                }
            }

            pub fn parse(code: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|r| r.as_str() == code)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

reason_codes! {
    /// Why a message is refused, listed in the order the engine checks them.
    DenyReason {
        /// The whole tenant is suspended pending review (P22).
        TenantSuspended => "tenant_suspended",
        /// The business number no longer routes to this tenant.
        ChannelDisconnected => "channel_disconnected",
        /// The text matches the Commerce Policy lexicon (P20).
        ProhibitedContent => "prohibited_content",
        /// A template Meta has not approved, or one we do not know (P16).
        TemplateNotApproved => "template_not_approved",
        /// Free-form outside the 24-hour customer-service window (P17).
        WindowClosed => "window_closed",
        /// The customer opted out of marketing (P19).
        OptedOut => "opted_out",
        /// Business-initiated without a recorded opt-in (P15).
        NoOptIn => "no_opt_in",
        /// Marketing is suspended for this tenant pending review (P22).
        MarketingSuspended => "marketing_suspended",
        /// The recipient already had the most marketing messages the tenant allows (P18).
        FrequencyCap => "frequency_cap",
    }
}

reason_codes! {
    /// Why a message waits.
    DeferReason {
        /// Quiet hours in the recipient's local time (P18).
        QuietHours => "quiet_hours",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn codes_are_snake_case_and_round_trip_through_serde_and_parse() {
        for r in DenyReason::ALL {
            let json = serde_json::to_value(r).unwrap();
            assert_eq!(json, r.as_str());
            assert_eq!(DenyReason::parse(r.as_str()), Some(*r));
            assert!(
                r.as_str()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_')
            );
        }
        assert_eq!(DenyReason::ALL.len(), 9);
        assert_eq!(DeferReason::QuietHours.to_string(), "quiet_hours");
        assert_eq!(DenyReason::parse("nope"), None);
    }

    #[test]
    fn decisions_serialize_tagged_with_rfc3339_instants() {
        let d = Decision::Defer {
            until: datetime!(2026-01-15 13:00 UTC),
            reason: DeferReason::QuietHours,
        };
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"decision": "defer", "until": "2026-01-15T13:00:00Z", "reason": "quiet_hours"})
        );
        assert_eq!(serde_json::from_value::<Decision>(json).unwrap(), d);
        let deny = Decision::deny(DenyReason::OptedOut, "x");
        assert_eq!(deny.reason_code(), Some("opted_out"));
        assert_eq!(
            serde_json::to_value(&deny).unwrap()["decision"],
            serde_json::json!("deny")
        );
        assert!(Decision::Allow.is_allow());
    }
}
