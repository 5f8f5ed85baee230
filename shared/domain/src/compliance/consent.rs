//! A customer's consent as the engine reads it: the state in force and since when, how a new
//! opt-in or opt-out changes it, and what it permits.
//!
//! The sources and the rule that only the customer can undo an opt-out are
//! [`crate::consent`]'s (what the store records and the API shows); this adds the instants,
//! so late and out-of-order changes resolve by time. Built from the stored
//! `MarketingConsent`: `state` with `opted_in_at` or `opted_out_at` and the source in force.
//!
//! Consent is held per tenant contact, not per number (P19), so one STOP silences every
//! number of the business. Besides [`ConsentState`] the engine needs `ever_opted_in` (P15
//! asks for an opt-in before any business-initiated message, and a later marketing opt-out
//! does not undo that one for transactional messages: see [`consent_denial`]).

use super::decision::DenyReason;
use super::input::TemplateCategory;
pub use crate::consent::{OptInSource, OptOutSource};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConsentState {
    /// Nothing recorded: neither an opt-in nor an opt-out.
    #[default]
    Unknown,
    OptedIn {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        source: OptInSource,
    },
    OptedOut {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        source: OptOutSource,
    },
}

/// A new fact about consent, to apply with [`ConsentState::apply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentChange {
    OptIn {
        at: OffsetDateTime,
        source: OptInSource,
    },
    OptOut {
        at: OffsetDateTime,
        source: OptOutSource,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConsentRefused {
    /// Only the customer's own action on WhatsApp can undo their opt-out.
    #[error(
        "the customer opted out on {} and only they can opt in again, by writing START on WhatsApp",
        since.date()
    )]
    OptedOut { since: OffsetDateTime },
}

impl ConsentState {
    /// The state as the store records it and the API shows it.
    pub fn kind(&self) -> crate::consent::ConsentState {
        match self {
            ConsentState::Unknown => crate::consent::ConsentState::Unknown,
            ConsentState::OptedIn { .. } => crate::consent::ConsentState::OptedIn,
            ConsentState::OptedOut { .. } => crate::consent::ConsentState::OptedOut,
        }
    }

    pub fn is_opted_in(&self) -> bool {
        matches!(self, ConsentState::OptedIn { .. })
    }

    pub fn is_opted_out(&self) -> bool {
        matches!(self, ConsentState::OptedOut { .. })
    }

    /// When the recorded state was set; `None` for `Unknown`.
    pub fn at(&self) -> Option<OffsetDateTime> {
        match self {
            ConsentState::Unknown => None,
            ConsentState::OptedIn { at, .. } | ConsentState::OptedOut { at, .. } => Some(*at),
        }
    }

    /// The state after `change`. Changes arrive late and out of order (webhooks, imports,
    /// retries), so the newer fact wins and an older one leaves the state as it is (`Ok` of
    /// the same state); at the same instant an opt-out wins, as the stricter. An opt-in
    /// against a newer-or-equal opt-out is stale, not refused; an opt-in after an opt-out is
    /// refused unless it is the customer's own action ([`OptInSource::is_customer_action`],
    /// the rule [`crate::consent::opt_in_outcome`] applies too).
    ///
    /// The caller records `ever_opted_in` when the result is `OptedIn`.
    pub fn apply(self, change: ConsentChange) -> Result<ConsentState, ConsentRefused> {
        match change {
            ConsentChange::OptOut { at, source } => Ok(match self.at() {
                Some(current) if at < current => self,
                Some(current) if at == current && self.is_opted_out() => self,
                _ => ConsentState::OptedOut { at, source },
            }),
            ConsentChange::OptIn { at, source } => match self {
                ConsentState::Unknown => Ok(ConsentState::OptedIn { at, source }),
                ConsentState::OptedIn { at: current, .. } => Ok(if at > current {
                    ConsentState::OptedIn { at, source }
                } else {
                    self
                }),
                ConsentState::OptedOut { at: since, .. } => {
                    if at <= since {
                        Ok(self)
                    } else if source.is_customer_action() {
                        Ok(ConsentState::OptedIn { at, source })
                    } else {
                        Err(ConsentRefused::OptedOut { since })
                    }
                }
            },
        }
    }
}

/// Whether consent stops a template, and why. Free-form messages never reach this: they go
/// only inside the window, where the customer wrote first.
///
/// - Marketing, in or outside the window: an opt-out denies it (`opted_out`). It is checked
///   before the missing opt-in, because the customer's own refusal is what the merchant must
///   see, even when no opt-in was ever recorded.
/// - Marketing outside the window needs the current state `OptedIn`; `Unknown` denies it
///   (`no_opt_in`). Inside the window it is a reply to the customer, so `Unknown` passes.
/// - Utility and authentication outside the window need an opt-in recorded at some point
///   (`ever_opted_in`, P15), and nothing more: an opt-out does not stop them. Meta's
///   marketing opt-out (`user_preferences` "stop") covers marketing messages only, and
///   these are the transactional messages the customer's own action triggers (an order
///   update, a login code). This is the policy; the merchant-facing docs state it.
/// - Anything inside the window, other than an opted-out customer's marketing, passes.
///
/// `OptedIn` counts as an opt-in ever recorded, whatever `ever_opted_in` says.
pub fn consent_denial(
    state: &ConsentState,
    ever_opted_in: bool,
    category: TemplateCategory,
    in_window: bool,
) -> Option<(DenyReason, String)> {
    let ever = ever_opted_in || state.is_opted_in();
    let marketing = category == TemplateCategory::Marketing;
    if marketing && let ConsentState::OptedOut { at, .. } = state {
        return Some((
            DenyReason::OptedOut,
            format!(
                "The customer opted out of marketing messages on {}; only they can opt in again.",
                at.date()
            ),
        ));
    }
    if in_window {
        return None;
    }
    if !ever {
        return Some((
            DenyReason::NoOptIn,
            "No opt-in is recorded for this customer; a business-initiated message needs one."
                .into(),
        ));
    }
    if marketing && !state.is_opted_in() {
        return Some((
            DenyReason::NoOptIn,
            "The customer has no current opt-in to marketing messages.".into(),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-01 10:00 UTC);
    const T1: OffsetDateTime = datetime!(2026-03-02 10:00 UTC);

    fn opt_in(at: OffsetDateTime, source: OptInSource) -> ConsentChange {
        ConsentChange::OptIn { at, source }
    }

    fn opt_out(at: OffsetDateTime) -> ConsentChange {
        ConsentChange::OptOut {
            at,
            source: OptOutSource::Keyword,
        }
    }

    #[test]
    fn only_the_customers_own_action_undoes_an_opt_out() {
        let out = ConsentState::Unknown.apply(opt_out(T0)).unwrap();
        for source in [
            OptInSource::Import,
            OptInSource::WebForm,
            OptInSource::Other,
        ] {
            assert_eq!(
                out.apply(opt_in(T1, source)),
                Err(ConsentRefused::OptedOut { since: T0 })
            );
        }
        let back = out.apply(opt_in(T1, OptInSource::Keyword)).unwrap();
        assert!(back.is_opted_in());
    }

    #[test]
    fn the_rule_is_the_one_the_store_applies() {
        use crate::consent::{OptInOutcome, opt_in_outcome};
        let states = [
            ConsentState::Unknown,
            ConsentState::Unknown.apply(opt_out(T0)).unwrap(),
            ConsentState::Unknown
                .apply(opt_in(T0, OptInSource::Paper))
                .unwrap(),
        ];
        for state in states {
            for source in OptInSource::ALL {
                let ours = state.apply(opt_in(T1, source));
                let store = opt_in_outcome(state.kind(), source);
                assert_eq!(
                    ours.is_err(),
                    store == OptInOutcome::RefusedOptedOut,
                    "{state:?} {source}"
                );
                if let Ok(next) = ours {
                    assert!(next.is_opted_in());
                }
            }
        }
    }

    #[test]
    fn the_newer_fact_wins_and_an_opt_out_wins_a_tie() {
        let inn = ConsentState::Unknown
            .apply(opt_in(T1, OptInSource::WebForm))
            .unwrap();
        // A late opt-out older than the opt-in changes nothing.
        assert_eq!(inn.apply(opt_out(T0)), Ok(inn));
        assert!(inn.apply(opt_out(T1)).unwrap().is_opted_out());
        let out = ConsentState::Unknown.apply(opt_out(T1)).unwrap();
        // A late opt-in older than the opt-out is stale, not refused.
        assert_eq!(out.apply(opt_in(T0, OptInSource::Import)), Ok(out));
        assert_eq!(out.apply(opt_in(T1, OptInSource::Keyword)), Ok(out));
        let newer = inn.apply(opt_in(T1 + time::Duration::DAY, OptInSource::Checkout));
        assert_eq!(newer.unwrap().at(), Some(T1 + time::Duration::DAY));
    }

    #[test]
    fn consent_serializes_tagged() {
        let s = ConsentState::OptedIn {
            at: T0,
            source: OptInSource::WebForm,
        };
        let json = serde_json::to_value(s).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"state": "opted_in", "at": "2026-03-01T10:00:00Z", "source": "web_form"})
        );
        assert_eq!(serde_json::from_value::<ConsentState>(json).unwrap(), s);
        assert_eq!(
            serde_json::to_value(ConsentState::Unknown).unwrap(),
            serde_json::json!({"state": "unknown"})
        );
    }

    #[test]
    fn refusal_names_the_date_not_the_customer() {
        let e = ConsentRefused::OptedOut { since: T0 };
        assert_eq!(
            e.to_string(),
            "the customer opted out on 2026-03-01 and only they can opt in again, by writing START on WhatsApp"
        );
    }
}
