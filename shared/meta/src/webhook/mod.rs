//! Meta's WhatsApp webhook: a notification is parsed from the raw body and split into owned
//! [`WebhookEvent`]s, one unit of work each, for the inbound queue. A body of the usual shape
//! is read and split in a single pass that copies from the body only what the events keep
//! (`single_pass.rs`, over the JSON cursor in `scan.rs`); any other body takes the general
//! path, serde_json's (`notification.rs`), which decides what the single pass leaves to it.
//!
//! ```text
//! {"object": "whatsapp_business_account",
//!  "entry": [{"id": WABA_ID, "changes": [{"field": "messages", "value": {…}}]}]}
//! ```
//!
//! - A `messages` change yields one [`EventPayload::Message`] per message (with the sender's
//!   contact) and one [`EventPayload::Status`] per status.
//! - Every other change yields one [`EventPayload::Other`] carrying the value as received;
//!   so does a `messages` change with change-level `errors`, with nothing to split, or with
//!   an item lacking an id or timestamp.
//!
//! # Dedupe keys
//! Stable across Meta's redeliveries: `message:{wamid}` (`…:edit` / `…:revoke` for edits and
//! deletions), `status:{wamid}:{status}` (`…:{participant}` in groups), and for everything
//! else `{field}:{hex sha256 of the change value's bytes}`.

mod content;
mod de;
mod direct;
mod error;
mod event;
mod items;
mod lenient;
mod message;
mod notification;
mod scan;
mod single_pass;
mod split;
mod status;
mod template;
mod wire;

pub use content::{
    Button, InteractiveReply, Location, Media, MessageContent, Order, OrderItem, Reaction,
    SharedContact, SharedContactName, SharedContactPhone, System, Text,
};
pub use error::{ParseError, ParseErrorKind};
pub use event::{EventPayload, WebhookEvent};
pub use message::{Contact, InboundMessage, MessageContext, Referral, ReferredProduct};
pub use notification::{Notification, WHATSAPP_OBJECT, parse, reference_events};
pub use status::{GraphErrorDetail, StatusUpdate};
pub use template::{
    TEMPLATE_CATEGORY_FIELD, TEMPLATE_QUALITY_FIELD, TEMPLATE_STATUS_FIELD, TemplateRef,
    TemplateUpdate, TemplateUpdateError,
};

#[cfg(test)]
mod tests;
