//! Switchboard's domain: pure types and rules. No I/O, no async, no AWS.

pub mod access;
pub mod clock;
pub mod compliance;
pub mod consent;
pub mod conversation;
pub mod ids;
pub mod jobs;
pub mod media;
pub mod message;
pub mod outbound;
pub mod secret;
pub mod tenant_settings;
pub mod throughput;

pub use access::{Permission, Role, Scope};
pub use clock::{Clock, FixedClock, SkippingClock, SystemClock};
pub use ids::{
    ApiKeyId, ContactId, ContactKey, ConversationId, MessageId, PhoneNumberId, TenantId, UserId,
    Wamid,
};
pub use media::{MediaKind, MediaRejection, SNIFF_BYTES, Sniffed};
pub use message::{Direction, MessageStatus};
pub use secret::Secret;
pub use tenant_settings::TenantSettings;
