//! The compliance policy engine: whether one outbound message may go now, may go later, or
//! may not go at all, and why (P15–P22). Pure: the caller brings every fact, the clock's
//! reading included, and the same facts always give the same [`Decision`].
//!
//! The rules and their order are documented in [`engine`]; each rule's own reading lives in
//! its module. Alongside the engine: [`keywords`] turns a customer's STOP into an opt-out and
//! [`consent`] applies it and [`confirmations`] answers it in the keyword's language, [`prohibited`] screens text (also for the AI agent's answers).

pub mod confirmations;
pub mod consent;
pub mod decision;
pub mod engine;
pub mod frequency;
pub mod input;
pub mod keywords;
pub mod prohibited;
pub mod quiet_hours;
pub mod recipient_zones;
pub mod text;
pub mod window;

#[cfg(test)]
mod engine_tests;
#[cfg(test)]
mod properties;

pub use confirmations::{CONFIRMATIONS, Confirmation, confirmation};
pub use consent::{ConsentChange, ConsentRefused, ConsentState, OptInSource, OptOutSource};
pub use decision::{Decision, DeferReason, DenyReason};
pub use engine::decide;
pub use input::{
    ChannelFacts, ContactFacts, FrequencyCap, MessageFacts, MessageKind, PolicyInput,
    RecipientFacts, TemplateCategory, TemplateStatus, TenantFacts, WindowFacts,
};
pub use keywords::{
    CONSENT_KEYWORDS, ConsentKeyword, KeywordMatch, consent_keyword, consent_keyword_match,
};
pub use prohibited::{ProhibitedCategory, screen};
