//! Switchboard's domain: pure types and rules. No I/O, no async, no AWS.

pub mod clock;
pub mod conversation;
pub mod ids;
pub mod jobs;
pub mod message;
pub mod outbound;
pub mod policy;
pub mod secret;

pub use clock::{Clock, FixedClock, SkippingClock, SystemClock};
pub use ids::{ContactKey, ConversationId, MessageId, PhoneNumberId, TenantId, Wamid};
pub use message::{Direction, MessageStatus};
pub use secret::Secret;
