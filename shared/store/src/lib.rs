//! Switchboard's DynamoDB single-table repository and idempotency records.
//!
//! Every tenant item's partition key starts with `T#{tenant}#` (or is `T#{tenant}`), and every
//! method on tenant data takes the caller's [`TenantId`](switchboard_domain::TenantId): a caller
//! can only name keys inside its own tenant. The few global items exist only where the tenant is
//! not known yet (phone-number routing, API key lookup, webhook dedupe, unrouted events). The key
//! design is documented in `docs/data-model.md`.

mod abuse_report;
mod api_key;
mod audit;
mod batch_read;
mod campaign;
mod channel;
mod consent;
mod contact;
mod conversation;
mod cursor;
mod decision;
mod error;
mod expression;
mod idempotency;
mod inbound;
mod item;
mod keys;
mod listing;
mod media;
mod media_upload;
mod message;
mod outbound;
mod page;
mod phone_route;
mod pointer;
mod prohibited_refusals;
mod recorded;
mod refresh_token;
mod send_pace;
mod session;
mod status;
mod store;
mod template;
mod tenant;
mod tenant_event;
mod throttle;
mod timestamp;
mod transaction;
mod unrouted;
mod user;

pub use abuse_report::{ABUSE_REPORT_RETENTION, AbuseReport, ReportRecorded};
pub use api_key::{ApiKeyRecord, LAST_USED_RESOLUTION};
pub use audit::{AUDIT_RETENTION, AuditEntry};
pub use batch_read::{Found, Lookup};
pub use campaign::{
    CAMPAIGN_CHUNK_SIZE, CampaignCounts, CampaignCreated, CampaignRecipient, CampaignRecord,
    MAX_CAMPAIGN_RECIPIENTS,
};
pub use channel::{ChannelRecord, WabaRoute, WabaTokenRecord};
pub use consent::{ConsentChange, ConsentChangeKind, MarketingConsent};
pub use contact::ContactRecord;
pub use conversation::ConversationRecord;
pub use cursor::{CursorCodec, Cursors, WeakCursorKey};
pub use decision::{DecisionOutcome, PolicyDecisionRecord};
pub use error::StoreError;
pub use idempotency::{Begin, IdempotencyKey, IdempotencyStore, Lease};
pub use inbound::{NewInboundMessage, inbound_message_id};
pub use keys::month_of;
pub use media::{MediaRecord, MediaState};
pub use media_upload::{
    MediaUploadRecord, MetaMediaId, PENDING_UPLOAD_LIFETIME, UploadCreated, UploadOutcome,
    UploadState,
};
pub use message::MessageRecord;
pub use outbound::{NewOutboundMessage, StoredOutbound};
pub use page::{MAX_PAGE_SIZE, Page};
pub use phone_route::PhoneRoute;
pub use pointer::MessageAt;
pub use prohibited_refusals::{
    PROHIBITED_REFUSALS_BEFORE_SUSPENSION, PROHIBITED_REFUSALS_RETENTION,
    PROHIBITED_REFUSALS_WINDOW,
};
pub use recorded::Recorded;
pub use refresh_token::{RefreshFamily, RefreshTokenRecord, Rotation};
pub use send_pace::SendSlot;
pub use session::SessionRecord;
pub use status::{DeliveryError, PENDING_STATUS_RETENTION, StatusApplied, StatusChange};
pub use store::Store;
pub use template::{
    DELETED_STATUS, SUBMITTING_STATUS, TemplateChange, TemplateRecord, TemplateSubmitted,
};
pub use tenant::{
    MARKETING_SUSPENDED_PROHIBITED_CONTENT, MARKETING_SUSPENDED_TEMPLATE_QUALITY_RED,
    MarketingSuspension, Suspension, Tenant,
};
pub use tenant_event::TenantEvent;
pub use throttle::{FailureCount, ThrottleKind};
pub use unrouted::{UNROUTED_RETENTION, UnroutedEvent, WABA_ROUTE_KEY_PREFIX, waba_route_key};
pub use user::{EmailClaim, UserChange, UserRecord, UserStatus, email_digest, normalize_email};
