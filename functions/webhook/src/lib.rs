//! Meta's webhook endpoint: answers the subscription handshake, verifies signatures, splits a
//! notification into events, deduplicates them durably and hands them to the inbound queue.
//! No Graph or OpenAI call happens here: Meta wants its 200 fast.

mod accept;
mod handshake;
mod init;
mod intake;
mod notification;
mod replay;

pub use accept::{AcceptError, Accepted, CLAIM_FOR, accept_events};
pub use init::{Keys, MetaKeys, ReadSecrets, init, init_deferred};
pub use intake::{EventIntake, enqueue_events};
pub use replay::{ReplayError, ReplayOutcome, replay_from_quarantine, replay_quarantined};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use std::sync::Arc;
use switchboard_platform::blob::Quarantine;
use switchboard_platform::metrics::MetricsSink;

/// The `service` dimension of the function's metrics.
pub const METRICS_SERVICE: &str = "webhook";

pub const WEBHOOK_PATH: &str = "/webhooks/whatsapp";

/// Larger bodies are refused with 413; Meta's batches stay far below this.
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

pub struct WebhookState {
    /// The signature check and the handshake token, from the Meta app secrets.
    pub meta: MetaKeys,
    /// Dedupe claims, inbound queue, oversize-event store and clock; shared with the
    /// operations function's replays.
    pub intake: EventIntake,
    pub quarantine: Quarantine,
    /// Where each request's EMF metrics go: stdout in Lambda.
    pub metrics: Arc<dyn MetricsSink>,
}

pub fn router(state: Arc<WebhookState>) -> Router {
    Router::new()
        .route(
            WEBHOOK_PATH,
            get(handshake::verify_subscription).post(notification::receive),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(
            switchboard_platform::request_span::request_span,
        ))
        .with_state(state)
}
