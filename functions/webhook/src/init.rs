//! Builds the function's state once per container; the Lambda main and the dev runner share it.

use crate::{EventIntake, WebhookState};
use aws_config::SdkConfig;
use futures::future::BoxFuture;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use switchboard_domain::Secret;
use switchboard_meta::signature::Verifier;
use switchboard_platform::secrets::{self, MetaSecrets, SecretsError};
use switchboard_platform::{Config, aws, blob::Quarantine, metrics};
use tokio::sync::OnceCell;

/// Meta waits a few seconds for the answer and the function runs 10 s at most: a stuck AWS
/// call must fail in time to answer 5xx, so that Meta retries.
const AWS_OPERATION_TIMEOUT: Duration = Duration::from_secs(3);
const AWS_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);

/// The state with the Meta secrets already read: a secret that cannot be read fails here.
/// For the dev runner and tools, which should not start half-configured.
pub async fn init(config: &Config, sdk: &SdkConfig) -> Result<Arc<WebhookState>, SecretsError> {
    let sdk = aws::with_timeouts(sdk, AWS_OPERATION_TIMEOUT, AWS_ATTEMPT_TIMEOUT);
    let meta = secrets_reader(config, &sdk)().await?;
    Ok(state(config, &sdk, MetaKeys::ready(meta)))
}

/// The state with the Meta secrets not read yet, for Lambda: the first request that needs them
/// reads them, and a failed read is that request's 503 and the next request's retry. Lambda
/// hands a cold container its event as soon as init asks for it, so a read in init or started
/// from it is waited for all the same; started from init, it also competes for the CPU with
/// the rest of init.
pub fn init_deferred(config: &Config, sdk: &SdkConfig) -> Arc<WebhookState> {
    let sdk = aws::with_timeouts(sdk, AWS_OPERATION_TIMEOUT, AWS_ATTEMPT_TIMEOUT);
    state(config, &sdk, MetaKeys::lazy(secrets_reader(config, &sdk)))
}

fn state(config: &Config, sdk: &SdkConfig, meta: MetaKeys) -> Arc<WebhookState> {
    Arc::new(WebhookState {
        meta,
        intake: EventIntake::new(config, sdk),
        quarantine: Quarantine::new(aws::s3_client(sdk), &config.data_bucket),
        metrics: metrics::stdout_sink(),
    })
}

/// Reads with a Secrets Manager client of its own, built by the first read: for the deferred
/// state, after init.
fn secrets_reader(config: &Config, sdk: &SdkConfig) -> ReadSecrets {
    let client = Arc::new(OnceLock::new());
    let sdk = sdk.clone();
    let id = config.meta_secret_id.clone();
    Arc::new(move || {
        let (client, sdk, id) = (Arc::clone(&client), sdk.clone(), id.clone());
        Box::pin(async move {
            let client = client.get_or_init(|| aws_sdk_secretsmanager::Client::new(&sdk));
            secrets::load_meta_secrets(client, &id).await
        })
    })
}

/// One read of the Meta secrets from wherever they are kept.
pub type ReadSecrets =
    Arc<dyn Fn() -> BoxFuture<'static, Result<MetaSecrets, SecretsError>> + Send + Sync>;

/// What the Meta app secrets key: the signature check of every notification and the answer
/// to the subscription handshake. Read once per container, on first use.
pub struct MetaKeys {
    keys: OnceCell<Arc<Keys>>,
    read: ReadSecrets,
}

pub struct Keys {
    /// Keyed with the app secret once per container.
    pub signature: Verifier,
    pub verify_token: Secret,
}

impl Keys {
    fn new(meta: MetaSecrets) -> Self {
        Self {
            signature: Verifier::new(meta.app_secret.expose().as_bytes()),
            verify_token: meta.verify_token,
        }
    }
}

impl MetaKeys {
    /// Keys from secrets already read.
    pub fn ready(meta: MetaSecrets) -> Self {
        let keys = Arc::new(Keys::new(meta.clone()));
        Self {
            keys: OnceCell::new_with(Some(keys)),
            read: Arc::new(move || {
                let meta = meta.clone();
                Box::pin(async move { Ok(meta) })
            }),
        }
    }

    /// Keys that `read` provides when first asked for.
    pub fn lazy(read: ReadSecrets) -> Self {
        Self {
            keys: OnceCell::new(),
            read,
        }
    }

    /// The keys, once a read has succeeded. Until then each call reads, one at a time (callers
    /// that arrive during a read wait for it); a failure is never kept: the request that sees
    /// it answers 5xx, and the next one reads again.
    pub async fn get(&self) -> Result<Arc<Keys>, SecretsError> {
        let keys = self
            .keys
            .get_or_try_init(|| async { Ok(Arc::new(Keys::new((self.read)().await?))) })
            .await;
        match keys {
            Ok(keys) => Ok(Arc::clone(keys)),
            Err(e) => {
                tracing::error!(error = %e, "Meta app secrets unavailable; the next request reads them again");
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{handshake, notification};
    use axum::extract::{Query, State};
    use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
    use axum::response::IntoResponse;
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use switchboard_meta::signature;
    use switchboard_platform::metrics::InMemorySink;

    const APP_SECRET: &str = "test-app-secret";
    const VERIFY_TOKEN: &str = "test-verify-token";

    fn secrets() -> MetaSecrets {
        MetaSecrets {
            app_secret: Secret::new(APP_SECRET),
            verify_token: Secret::new(VERIFY_TOKEN),
        }
    }

    /// A state whose AWS clients point at a closed port: a request that got past the
    /// signature check would fail on them with 500, not 503.
    fn test_state(meta: MetaKeys) -> Arc<WebhookState> {
        let vars = BTreeMap::from(
            [
                ("TABLE_NAME", "t"),
                ("INBOUND_QUEUE_URL", "http://127.0.0.1:9/q"),
                ("OUTBOUND_QUEUE_URL", "http://127.0.0.1:9/q"),
                ("DATA_BUCKET", "b"),
                ("META_SECRET_ID", "meta"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        );
        let config = Config::from_map(&vars).expect("config");
        let sdk = SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url("http://127.0.0.1:9")
            .build();
        let state = state(&config, &sdk, meta);
        let mut state = Arc::into_inner(state).expect("fresh state");
        state.metrics = Arc::new(InMemorySink::default());
        Arc::new(state)
    }

    /// Reads that fail `failures` times, then succeed; counts every read.
    fn flaky_read(failures: usize, reads: Arc<AtomicUsize>) -> ReadSecrets {
        Arc::new(move || {
            let n = reads.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                if n < failures {
                    Err(SecretsError::Fetch {
                        id: "meta".to_owned(),
                        reason: "connection refused".to_owned(),
                    })
                } else {
                    Ok(secrets())
                }
            })
        })
    }

    async fn post(state: &Arc<WebhookState>, body: &'static [u8], secret: &str) -> StatusCode {
        let mut headers = HeaderMap::new();
        let signed = signature::sign(secret.as_bytes(), body);
        headers.insert(
            signature::HEADER,
            HeaderValue::from_str(&signed).expect("header"),
        );
        notification::receive(State(Arc::clone(state)), headers, body.into()).await
    }

    async fn handshake(state: &Arc<WebhookState>) -> StatusCode {
        let uri: Uri = format!(
            "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=42"
        )
        .parse()
        .expect("uri");
        handshake::verify_subscription(State(Arc::clone(state)), Query::try_from_uri(&uri))
            .await
            .into_response()
            .status()
    }

    #[tokio::test]
    async fn a_failed_secret_read_answers_503_and_the_next_request_reads_again() {
        let reads = Arc::new(AtomicUsize::new(0));
        let state = test_state(MetaKeys::lazy(flaky_read(2, Arc::clone(&reads))));
        assert_eq!(
            reads.load(Ordering::SeqCst),
            0,
            "nothing is read before a request"
        );

        // The first read fails: a correctly signed body is not accepted unverified.
        let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
        assert_eq!(
            post(&state, body, APP_SECRET).await,
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        // The failure is not kept: this request reads again, and fails again.
        assert_eq!(handshake(&state).await, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(reads.load(Ordering::SeqCst), 2);

        // The third read works; the keys are then kept.
        assert_eq!(handshake(&state).await, StatusCode::OK);
        assert_eq!(
            post(&state, body, "another-secret").await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(handshake(&state).await, StatusCode::OK);
        assert_eq!(reads.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn requests_that_arrive_during_the_read_wait_for_it() {
        let reads = Arc::new(AtomicUsize::new(0));
        let release = Arc::new(tokio::sync::Notify::new());
        let read: ReadSecrets = {
            let (reads, release) = (Arc::clone(&reads), Arc::clone(&release));
            Arc::new(move || {
                reads.fetch_add(1, Ordering::SeqCst);
                let release = Arc::clone(&release);
                Box::pin(async move {
                    release.notified().await;
                    Ok(secrets())
                })
            })
        };
        let state = test_state(MetaKeys::lazy(read));
        let requests: Vec<_> = (0..2)
            .map(|_| {
                let state = Arc::clone(&state);
                tokio::spawn(async move { handshake(&state).await })
            })
            .collect();
        tokio::task::yield_now().await;
        assert!(
            requests.iter().all(|r| !r.is_finished()),
            "answered before the secrets arrived"
        );
        release.notify_one();
        for r in requests {
            assert_eq!(r.await.expect("request"), StatusCode::OK);
        }
        assert_eq!(reads.load(Ordering::SeqCst), 1, "one read for both");
    }

    #[tokio::test]
    async fn secrets_read_at_init_are_not_read_again() {
        let state = test_state(MetaKeys::ready(secrets()));
        assert_eq!(handshake(&state).await, StatusCode::OK);
        assert_eq!(
            post(&state, b"{}", "another-secret").await,
            StatusCode::FORBIDDEN
        );
    }
}
