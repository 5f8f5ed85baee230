//! A local stand-in for Meta's side of WhatsApp: the Graph API endpoints Switchboard calls and the
//! webhooks Meta sends back (signed statuses after each send, customers writing in), with faults
//! injected on request.
//!
//! Routes:
//! - `POST /{version}/{phone_number_id}/messages` — the Cloud API send endpoint.
//! - Embedded Signup: `GET /{version}/oauth/access_token`, `POST|GET|DELETE
//!   /{version}/{waba_id}/subscribed_apps`, `POST /{version}/{phone_number_id}/register`,
//!   `GET /{version}/{phone_number_id}` (see `onboarding.rs`).
//! - `POST /sandbox/signup-codes` — mint a signup code; `GET /sandbox/subscriptions`,
//!   `GET /sandbox/registrations` — what onboarding did.
//! - `POST /sandbox/customer-messages` — a customer writes; returns the webhook's answer.
//! - `POST /sandbox/webhooks` — sign and post any JSON body.
//! - `POST|GET|DELETE /sandbox/faults` — queue, list, clear faults.
//! - `GET|DELETE /sandbox/sent`, `GET /sandbox/read-receipts` — what was accepted.
//! - `PUT|GET /sandbox/fault-rates` — random 5xx and 130429 at set shares of sends.
//! - `PUT|GET /sandbox/numbers/{phone_number_id}/throughput`, `PUT|GET /sandbox/pair-rate` —
//!   the send rates enforced (130429, 131056); `GET /sandbox/rejections` — every refused send.
//! - `GET|PUT /sandbox/webhook-url`, `GET /sandbox/health`.
//! - Message templates: `POST|GET|DELETE /{version}/{waba_id}/message_templates`, reviewed
//!   after a delay with Meta's template webhooks; `GET /sandbox/templates`,
//!   `PUT /sandbox/templates/review-delay`, `POST /sandbox/templates/{id}/{action}` (see
//!   `templates.rs`).
//! - Media (see `media.rs`): `GET|DELETE /{version}/{media_id}`, `POST
//!   /{version}/{phone_number_id}/media` (multipart upload), `GET /sandbox/media-download/{token}`;
//!   control: `POST /sandbox/media`, `POST /sandbox/media/{id}/expire-urls|delete`,
//!   `GET /sandbox/uploads`, `GET /sandbox/media-requests`, `GET|PUT /sandbox/media-settings`,
//!   `POST /sandbox/customer-media-messages` (see `customer_media.rs`).

mod clock;
mod config;
mod control;
mod customer;
mod customer_media;
mod delivery;
mod faults;
mod graph_error;
mod media;
mod media_library;
mod onboarding;
mod onboarding_state;
mod pacing;
mod send;
mod server;
mod state;
mod statuses;
mod templates;
mod wamid;
mod webhook_body;

pub use config::{
    DEFAULT_APP_ID, DEFAULT_DISPLAY_PHONE_NUMBER, DEFAULT_PHONE_NUMBER_ID, DEFAULT_STATUS_DELAY,
    DEFAULT_WABA_ID, SandboxConfig,
};
pub use customer::{CustomerMessage, CustomerMessageError, WebhookReport};
pub use customer_media::{CustomerMediaMessage, CustomerMediaMessageError};
pub use faults::{DEFAULT_FAULT_DELAY, Fault, FaultKind};
pub use media_library::{
    AddedMedia, DEFAULT_MEDIA_URL_TTL, MAX_UPLOAD_SIZE, MEDIA_CHUNK_SIZE, MediaContent, MediaEntry,
    MediaKind, MediaRequests, NewMedia, NewMediaContent, SUPPORTED_UPLOAD_TYPES, UploadedMedia,
};
pub use onboarding_state::{
    CODE_LIFETIME, MAX_WRONG_PINS, REGISTER_LIMIT, REGISTER_WINDOW, Registration, SignupCode,
    SignupCodeError, SignupCodeRequest, Subscription, token_sha256,
};
pub use pacing::{DEFAULT_MESSAGES_PER_SECOND, FaultRates, PairRate};
pub use send::{FAULT_DELAY_HEADER, FAULT_HEADER};
pub use server::{RunningSandbox, router, start, try_start};
pub use state::{ReadReceipt, Rejection, SandboxError, SandboxState, SentMessage};
