//! A customer's marketing consent: whether the business may start a conversation with them,
//! where that permission came from, and the rule that only the customer can take back an
//! opt-out.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// `consent.marketing.state` as the API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    #[default]
    Unknown,
    OptedIn,
    OptedOut,
}

impl ConsentState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentState::Unknown => "unknown",
            ConsentState::OptedIn => "opted_in",
            ConsentState::OptedOut => "opted_out",
        }
    }
}

/// Where an opt-in was collected. The business declares it; `keyword` and `in_chat` are the
/// customer's own action inside WhatsApp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptInSource {
    WebForm,
    Checkout,
    /// The customer sent START (or a localized equivalent).
    Keyword,
    Import,
    /// The customer agreed in the conversation itself (e.g. tapped a consent button).
    InChat,
    /// Meta's `user_preferences` webhook with `resume`.
    UserPreferences,
    Paper,
    Phone,
    Other,
}

impl OptInSource {
    pub const ALL: [OptInSource; 9] = [
        OptInSource::WebForm,
        OptInSource::Checkout,
        OptInSource::Keyword,
        OptInSource::Import,
        OptInSource::InChat,
        OptInSource::UserPreferences,
        OptInSource::Paper,
        OptInSource::Phone,
        OptInSource::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OptInSource::WebForm => "web_form",
            OptInSource::Checkout => "checkout",
            OptInSource::Keyword => "keyword",
            OptInSource::Import => "import",
            OptInSource::InChat => "in_chat",
            OptInSource::UserPreferences => "user_preferences",
            OptInSource::Paper => "paper",
            OptInSource::Phone => "phone",
            OptInSource::Other => "other",
        }
    }

    /// Whether this opt-in is the customer's own action on WhatsApp, observed by Switchboard
    /// itself rather than declared by the business. Only such an opt-in lifts an opt-out:
    /// no import, API call or agent can re-add a customer who said stop.
    pub fn is_customer_action(self) -> bool {
        matches!(self, OptInSource::Keyword | OptInSource::UserPreferences)
    }

    /// The sources a business may declare through the API (the others Switchboard records
    /// itself when it sees the customer act).
    pub fn declarable(self) -> bool {
        !self.is_customer_action()
    }
}

impl fmt::Display for OptInSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OptInSource {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        OptInSource::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or(())
    }
}

/// Why a customer is opted out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptOutSource {
    /// The customer sent STOP (or a localized equivalent).
    Keyword,
    /// Meta's `user_preferences` webhook with `stop` for marketing messages.
    UserPreferences,
    /// Meta refused a marketing send with 131050: the user stopped marketing messages.
    MetaError,
    /// The business recorded the customer's request (API, agent, import).
    BusinessRecorded,
}

impl OptOutSource {
    pub fn as_str(self) -> &'static str {
        match self {
            OptOutSource::Keyword => "keyword",
            OptOutSource::UserPreferences => "user_preferences",
            OptOutSource::MetaError => "meta_error",
            OptOutSource::BusinessRecorded => "business_recorded",
        }
    }
}

impl OptOutSource {
    pub const ALL: [OptOutSource; 4] = [
        OptOutSource::Keyword,
        OptOutSource::UserPreferences,
        OptOutSource::MetaError,
        OptOutSource::BusinessRecorded,
    ];
}

impl FromStr for OptOutSource {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        OptOutSource::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or(())
    }
}

/// What backs an opt-in: enough for the business to show when, where and how the customer
/// agreed. Kept as long as the contact is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ConsentProof {
    /// The wording the customer agreed to, or the keyword they sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Where it was collected (the form's URL, the checkout page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// When the customer agreed, as the business states it (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<String>,
    /// Who recorded it: `user:…`, `api_key:…`, `customer` or `meta`.
    pub recorded_by: String,
}

/// What a consent change would do, decided before anything is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptInOutcome {
    /// Recorded: the customer is opted in.
    OptedIn,
    /// Already opted in: the new proof is kept in the history, the state stays.
    AlreadyOptedIn,
    /// Refused: the customer opted out and only their own action can undo that.
    RefusedOptedOut,
}

/// The one rule every opt-in passes, wherever it comes from.
pub fn opt_in_outcome(current: ConsentState, source: OptInSource) -> OptInOutcome {
    match current {
        ConsentState::OptedOut if !source.is_customer_action() => OptInOutcome::RefusedOptedOut,
        ConsentState::OptedIn => OptInOutcome::AlreadyOptedIn,
        _ => OptInOutcome::OptedIn,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_customer_can_lift_an_opt_out() {
        for source in OptInSource::ALL {
            let outcome = opt_in_outcome(ConsentState::OptedOut, source);
            if source.is_customer_action() {
                assert_eq!(outcome, OptInOutcome::OptedIn, "{source}");
            } else {
                assert_eq!(outcome, OptInOutcome::RefusedOptedOut, "{source}");
            }
            assert_eq!(
                opt_in_outcome(ConsentState::Unknown, source),
                OptInOutcome::OptedIn
            );
            assert_eq!(
                opt_in_outcome(ConsentState::OptedIn, source),
                OptInOutcome::AlreadyOptedIn
            );
        }
    }

    #[test]
    fn source_names_round_trip() {
        for source in OptInSource::ALL {
            assert_eq!(source.as_str().parse::<OptInSource>(), Ok(source));
            assert_eq!(
                serde_json::to_value(source).expect("serializes"),
                source.as_str()
            );
        }
        assert!("email".parse::<OptInSource>().is_err());
    }
}
