//! What a running sandbox remembers: its configuration, the requests it accepted, queued faults.

use crate::config::SandboxConfig;
use crate::delivery::{
    DeliveryOutcome, RetryPolicy, WEBHOOK_ATTEMPTS, WEBHOOK_RETRY_BACKOFF, deliver,
};
use crate::faults::{Fault, FaultQueue};
use crate::media_library::MediaLibrary;
use crate::onboarding_state::OnboardingState;
use crate::pacing::{FaultDice, FaultRates, Limit, Pacing, PairRate, RandomFault};
use crate::templates::TemplatesState;
use crate::webhook_body::Business;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;
use switchboard_domain::Secret;
use tokio::sync::watch;

/// Webhook posts give up after this long; Meta's own limit is similar.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("building the webhook HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    #[error("sandbox socket: {0}")]
    Io(#[from] std::io::Error),
}

/// A message accepted on `POST /{version}/{phone_number_id}/messages`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentMessage {
    pub phone_number_id: String,
    pub wamid: String,
    /// The request body exactly as parsed.
    pub body: Value,
    /// Lowercase hex SHA-256 of the bearer token the send came with: proves which tenant's
    /// token sent it without the sandbox keeping tokens.
    #[serde(default)]
    pub access_token_sha256: String,
    /// RFC 3339.
    pub received_at: String,
}

/// A "mark as read" (optionally with typing indicator) accepted on the same endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadReceipt {
    pub phone_number_id: String,
    pub message_id: String,
    pub typing_indicator: bool,
    pub received_at: String,
}

/// A send the sandbox refused with one of Meta's error codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub phone_number_id: String,
    /// `to` or `recipient` of the refused send.
    pub recipient: String,
    pub code: i64,
    /// `fault` (queued or forced), `random` (fault rates), `throughput` or `pair_rate`.
    pub cause: String,
    pub received_at: String,
}

/// Shared by every handler and by the test handle. Locks are held only for copies, never across
/// an await.
#[derive(Clone)]
pub struct SandboxState {
    inner: Arc<Inner>,
}

struct Inner {
    config: SandboxConfig,
    app_secret: Secret,
    webhook_url: RwLock<String>,
    sent: Mutex<Vec<SentMessage>>,
    read_receipts: Mutex<Vec<ReadReceipt>>,
    faults: Mutex<FaultQueue>,
    pacing: Mutex<Pacing>,
    dice: Mutex<FaultDice>,
    rejections: Mutex<Vec<Rejection>>,
    onboarding: Mutex<OnboardingState>,
    templates: Mutex<TemplatesState>,
    media: Mutex<MediaLibrary>,
    http: reqwest::Client,
    shutdown: watch::Sender<bool>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere leaves plain data behind; the sandbox keeps serving it.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SandboxState {
    pub fn new(config: SandboxConfig) -> Result<Self, SandboxError> {
        let http = reqwest::Client::builder()
            .timeout(WEBHOOK_TIMEOUT)
            .build()
            .map_err(SandboxError::HttpClient)?;
        let (shutdown, _) = watch::channel(false);
        Ok(Self {
            inner: Arc::new(Inner {
                webhook_url: RwLock::new(config.webhook_url.clone()),
                app_secret: Secret::new(config.app_secret.clone()),
                onboarding: Mutex::new(OnboardingState::seeded(
                    &config.waba_id,
                    &config.phone_number_id,
                    &config.display_phone_number,
                )),
                templates: Mutex::default(),
                media: Mutex::default(),
                config,
                sent: Mutex::default(),
                read_receipts: Mutex::default(),
                faults: Mutex::default(),
                pacing: Mutex::default(),
                dice: Mutex::default(),
                rejections: Mutex::default(),
                http,
                shutdown,
            }),
        })
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.inner.config
    }

    pub fn webhook_url(&self) -> String {
        self.inner
            .webhook_url
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn set_webhook_url(&self, url: impl Into<String>) {
        *self
            .inner
            .webhook_url
            .write()
            .unwrap_or_else(PoisonError::into_inner) = url.into();
    }

    /// The business a phone number belongs to: a number onboarded through a signup code reports
    /// its own WABA and display number; any other is the configured business's.
    pub fn business(&self, phone_number_id: Option<&str>) -> Business {
        let config = &self.inner.config;
        if let Some(id) = phone_number_id
            && let Some(number) = self.onboarding().number(id)
        {
            return Business {
                waba_id: number.waba_id,
                display_phone_number: number.display_phone_number,
                phone_number_id: id.to_owned(),
            };
        }
        Business {
            waba_id: config.waba_id.clone(),
            display_phone_number: config.display_phone_number.clone(),
            phone_number_id: phone_number_id
                .unwrap_or(&config.phone_number_id)
                .to_owned(),
        }
    }

    /// Embedded Signup state. Hold the guard only for a copy or an update, never across an await.
    pub(crate) fn onboarding(&self) -> MutexGuard<'_, OnboardingState> {
        lock(&self.inner.onboarding)
    }

    /// Message templates per WABA. Hold the guard only for a copy or an update, never across an
    /// await.
    pub(crate) fn templates(&self) -> MutexGuard<'_, TemplatesState> {
        lock(&self.inner.templates)
    }

    /// Media objects, their download URLs and counters. Hold the guard only for a copy or an
    /// update, never across an await.
    pub(crate) fn media(&self) -> MutexGuard<'_, MediaLibrary> {
        lock(&self.inner.media)
    }

    pub fn record_sent(&self, message: SentMessage) {
        lock(&self.inner.sent).push(message);
    }

    pub fn sent(&self) -> Vec<SentMessage> {
        lock(&self.inner.sent).clone()
    }

    pub fn record_read_receipt(&self, receipt: ReadReceipt) {
        lock(&self.inner.read_receipts).push(receipt);
    }

    pub fn read_receipts(&self) -> Vec<ReadReceipt> {
        lock(&self.inner.read_receipts).clone()
    }

    /// Forgets sent messages and read receipts, e.g. between tests sharing a sandbox.
    pub fn clear_history(&self) {
        lock(&self.inner.sent).clear();
        lock(&self.inner.read_receipts).clear();
        lock(&self.inner.rejections).clear();
    }

    pub fn push_fault(&self, fault: Fault) {
        lock(&self.inner.faults).push(fault);
    }

    pub fn clear_faults(&self) {
        lock(&self.inner.faults).clear();
    }

    pub fn pending_faults(&self) -> Vec<Fault> {
        lock(&self.inner.faults).pending()
    }

    pub fn take_fault_for(&self, recipient: &str) -> Option<Fault> {
        lock(&self.inner.faults).take_for(recipient)
    }

    /// Takes a send from the number's throughput and the pair's rate, or says which is spent.
    pub fn admit_send(&self, phone_number_id: &str, recipient: &str) -> Result<(), Limit> {
        lock(&self.inner.pacing).admit(phone_number_id, recipient, std::time::Instant::now())
    }

    pub fn set_throughput(&self, phone_number_id: &str, messages_per_second: u32) {
        lock(&self.inner.pacing).set_throughput(phone_number_id, messages_per_second);
    }

    pub fn throughput(&self, phone_number_id: &str) -> u32 {
        lock(&self.inner.pacing).throughput(phone_number_id)
    }

    pub fn set_pair_rate(&self, rate: PairRate) {
        lock(&self.inner.pacing).set_pair_rate(rate);
    }

    pub fn pair_rate(&self) -> PairRate {
        lock(&self.inner.pacing).pair_rate()
    }

    pub fn set_fault_rates(&self, rates: FaultRates) {
        lock(&self.inner.dice).set(rates);
    }

    pub fn fault_rates(&self) -> Option<FaultRates> {
        lock(&self.inner.dice).rates()
    }

    pub fn roll_fault(&self) -> Option<RandomFault> {
        lock(&self.inner.dice).roll()
    }

    pub fn record_rejection(&self, rejection: Rejection) {
        lock(&self.inner.rejections).push(rejection);
    }

    pub fn rejections(&self) -> Vec<Rejection> {
        lock(&self.inner.rejections).clone()
    }

    /// Signs and posts `body` to the current webhook URL.
    pub async fn deliver_webhook(&self, body: &[u8], attempts: Option<u32>) -> DeliveryOutcome {
        let policy = RetryPolicy {
            attempts: attempts.unwrap_or(WEBHOOK_ATTEMPTS),
            backoff: WEBHOOK_RETRY_BACKOFF,
        };
        let url = self.webhook_url();
        deliver(&self.inner.http, &url, &self.inner.app_secret, body, policy).await
    }

    /// Resolves when the sandbox is shutting down; background work stops there.
    pub async fn shutting_down(&self) {
        let mut receiver = self.inner.shutdown.subscribe();
        // An error means the sender is gone, which is a shutdown too.
        let _ = receiver.wait_for(|stopping| *stopping).await;
    }

    pub fn begin_shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }
}
