//! Builds the function's state once per container; the Lambda main and the dev runner share it.

use crate::{EventIntake, WebhookState};
use aws_config::SdkConfig;
use std::sync::Arc;
use std::time::Duration;
use switchboard_meta::signature::Verifier;
use switchboard_platform::secrets::{self, SecretsError};
use switchboard_platform::{Config, aws, blob::Quarantine, metrics};

/// Meta waits a few seconds for the answer and the function runs 10 s at most: a stuck AWS
/// call must fail in time to answer 5xx, so that Meta retries.
const AWS_OPERATION_TIMEOUT: Duration = Duration::from_secs(3);
const AWS_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);

pub async fn init(config: &Config, sdk: &SdkConfig) -> Result<Arc<WebhookState>, SecretsError> {
    let sdk = &aws::with_timeouts(sdk, AWS_OPERATION_TIMEOUT, AWS_ATTEMPT_TIMEOUT);
    let meta = secrets::load_meta_secrets(
        &aws_sdk_secretsmanager::Client::new(sdk),
        &config.meta_secret_id,
    )
    .await?;
    Ok(Arc::new(WebhookState {
        signature: Verifier::new(meta.app_secret.expose().as_bytes()),
        verify_token: meta.verify_token,
        intake: EventIntake::new(config, sdk),
        quarantine: Quarantine::new(aws::s3_client(sdk), &config.data_bucket),
        metrics: metrics::stdout_sink(),
    }))
}
