//! The sandbox's routes and a handle to a running instance.

use crate::config::SandboxConfig;
use crate::customer::{self, CustomerMessage, CustomerMessageError, WebhookReport};
use crate::customer_media::{self, CustomerMediaMessage, CustomerMediaMessageError};
use crate::faults::Fault;
use crate::media_library::{AddedMedia, MediaRequests, NewMedia, UploadedMedia};
use crate::onboarding_state::{
    Registration, SignupCode, SignupCodeError, SignupCodeRequest, Subscription,
};
use crate::state::{ReadReceipt, SandboxError, SandboxState, SentMessage};
use crate::{control, media, onboarding, send, templates};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub fn router(state: SandboxState) -> Router {
    Router::new()
        // One parameter name per position: the router refuses `{waba_id}` beside `{node_id}`.
        .route("/{version}/{node_id}/messages", post(send::send_message))
        .route(
            "/{version}/oauth/access_token",
            get(onboarding::exchange_code),
        )
        .route(
            "/{version}/{node_id}/subscribed_apps",
            post(onboarding::subscribe_app)
                .get(onboarding::subscribed_apps)
                .delete(onboarding::unsubscribe_app),
        )
        .route(
            "/{version}/{node_id}/message_templates",
            post(templates::create)
                .get(templates::list)
                .delete(templates::delete),
        )
        .route("/{version}/{node_id}/register", post(onboarding::register))
        .route(
            "/{version}/{node_id}/media",
            post(media::upload).layer(DefaultBodyLimit::max(media::UPLOAD_BODY_LIMIT)),
        )
        // GET answers a media id with its URL and any other node as a phone number.
        .route(
            "/{version}/{node_id}",
            get(onboarding::phone_number).delete(media::delete_media),
        )
        .route(
            "/sandbox/media",
            post(media::create_media).layer(DefaultBodyLimit::max(media::CONTROL_BODY_LIMIT)),
        )
        .route("/sandbox/media/{id}/{action}", post(media::control))
        .route("/sandbox/media-download/{token}", get(media::download))
        .route("/sandbox/uploads", get(media::uploads))
        .route("/sandbox/media-requests", get(media::media_requests))
        .route(
            "/sandbox/media-settings",
            get(media::media_settings).put(media::set_media_settings),
        )
        .route(
            "/sandbox/customer-media-messages",
            post(customer_media::customer_media_message),
        )
        .route("/sandbox/signup-codes", post(onboarding::mint_signup_code))
        .route("/sandbox/subscriptions", get(onboarding::subscriptions))
        .route("/sandbox/registrations", get(onboarding::registrations))
        .route("/sandbox/templates", get(templates::all))
        .route(
            "/sandbox/templates/review-delay",
            put(templates::set_review_delay),
        )
        .route("/sandbox/templates/{id}/{action}", post(templates::control))
        .route("/sandbox/health", get(control::health))
        .route(
            "/sandbox/sent",
            get(control::sent).delete(control::clear_history),
        )
        .route("/sandbox/read-receipts", get(control::read_receipts))
        .route(
            "/sandbox/faults",
            post(control::add_fault)
                .get(control::list_faults)
                .delete(control::clear_faults),
        )
        .route("/sandbox/rejections", get(control::rejections))
        .route(
            "/sandbox/fault-rates",
            get(control::fault_rates).put(control::set_fault_rates),
        )
        .route(
            "/sandbox/numbers/{phone_number_id}/throughput",
            get(control::throughput).put(control::set_throughput),
        )
        .route(
            "/sandbox/pair-rate",
            get(control::pair_rate).put(control::set_pair_rate),
        )
        .route(
            "/sandbox/webhook-url",
            get(control::webhook_url).put(control::set_webhook_url),
        )
        .route(
            "/sandbox/customer-messages",
            post(customer::customer_message),
        )
        .route("/sandbox/webhooks", post(customer::raw_webhook))
        .with_state(state)
}

/// A sandbox serving on a socket. Dropping it stops the server and pending status webhooks.
pub struct RunningSandbox {
    /// `http://ip:port`, usable as the Graph API base URL.
    pub base_url: String,
    pub addr: SocketAddr,
    state: SandboxState,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

/// Serves the sandbox on `listener` (bind `127.0.0.1:0` in tests) until the handle is dropped.
///
/// # Panics
/// When [`try_start`] fails: the listener has no local address or no HTTP client can be built.
/// Both mean a broken machine, and the sandbox only runs in development and tests.
pub async fn start(listener: TcpListener, config: SandboxConfig) -> RunningSandbox {
    match try_start(listener, config).await {
        Ok(sandbox) => sandbox,
        Err(error) => panic!("the Meta sandbox cannot start: {error}"),
    }
}

/// [`start`], reporting failures instead of panicking.
pub async fn try_start(
    listener: TcpListener,
    config: SandboxConfig,
) -> Result<RunningSandbox, SandboxError> {
    let addr = listener.local_addr()?;
    let state = SandboxState::new(config)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let app = router(state.clone());
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                // A dropped sender means the handle is gone: stop as well.
                let _ = stopped.await;
            })
            .await
    });
    tracing::info!(%addr, "meta sandbox listening");
    Ok(RunningSandbox {
        base_url: format!("http://{addr}"),
        addr,
        state,
        stop: Some(stop),
        server: Some(server),
    })
}

impl RunningSandbox {
    pub fn state(&self) -> &SandboxState {
        &self.state
    }

    pub fn set_webhook_url(&self, url: impl Into<String>) {
        self.state.set_webhook_url(url);
    }

    pub fn sent(&self) -> Vec<SentMessage> {
        self.state.sent()
    }

    pub fn read_receipts(&self) -> Vec<ReadReceipt> {
        self.state.read_receipts()
    }

    pub fn push_fault(&self, fault: Fault) {
        self.state.push_fault(fault);
    }

    /// Mints an Embedded Signup code for a business, as `POST /sandbox/signup-codes` does. The
    /// answer carries the token the code's exchange will issue.
    pub fn mint_signup_code(
        &self,
        request: &SignupCodeRequest,
    ) -> Result<SignupCode, SignupCodeError> {
        self.state.mint_signup_code(request)
    }

    pub fn subscriptions(&self) -> Vec<Subscription> {
        self.state.subscriptions()
    }

    pub fn registrations(&self) -> Vec<Registration> {
        self.state.registrations()
    }

    pub fn clear_faults(&self) {
        self.state.clear_faults();
    }

    /// Posts a customer's text message to the webhook, as `POST /sandbox/customer-messages` does.
    pub async fn customer_message(
        &self,
        message: &CustomerMessage,
    ) -> Result<WebhookReport, CustomerMessageError> {
        customer::post_customer_text(&self.state, message, None).await
    }

    /// Adds media a customer can send, as `POST /sandbox/media` does. Generated content is
    /// hashed here by generating it (about a second for 100 MB in a debug build).
    pub fn add_media(&self, media: NewMedia) -> AddedMedia {
        self.state.add_media(media)
    }

    /// What the business uploaded on `POST /{version}/{phone_number_id}/media`, in order.
    pub fn uploads(&self) -> Vec<UploadedMedia> {
        self.state.uploads()
    }

    /// Successful URL look-ups and downloads per media id.
    pub fn media_requests(&self) -> MediaRequests {
        self.state.media_requests()
    }

    /// Meta deletes the media; `false` when unknown.
    pub fn delete_media(&self, media_id: &str) -> bool {
        self.state.delete_media(media_id)
    }

    /// Every URL issued so far for the media answers as expired; `false` when unknown.
    pub fn expire_media_urls(&self, media_id: &str) -> bool {
        self.state.expire_media_urls(media_id)
    }

    /// Posts a customer's media message to the webhook, as
    /// `POST /sandbox/customer-media-messages` does.
    pub async fn customer_media_message(
        &self,
        message: &CustomerMediaMessage,
    ) -> Result<WebhookReport, CustomerMediaMessageError> {
        customer_media::post_customer_media(&self.state, message, None).await
    }

    /// Signs and posts any webhook body byte for byte.
    pub async fn post_webhook(&self, body: &[u8]) -> WebhookReport {
        let outcome = self.state.deliver_webhook(body, None).await;
        WebhookReport {
            wamid: None,
            webhook_status: outcome.status,
            attempts: outcome.attempts,
            error: outcome.error,
        }
    }

    /// Stops accepting requests, lets in-flight ones finish, and abandons pending statuses.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        self.signal_stop();
        match self.server.take() {
            Some(server) => server
                .await
                .unwrap_or_else(|join| Err(std::io::Error::other(join))),
            None => Ok(()),
        }
    }

    fn signal_stop(&mut self) {
        self.state.begin_shutdown();
        if let Some(stop) = self.stop.take() {
            // The server may already be gone; nothing to stop then.
            let _ = stop.send(());
        }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        self.signal_stop();
    }
}
