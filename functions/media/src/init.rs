//! Builds the function's state once per container; the Lambda main and the dev runner share it.

use crate::MediaState;
use aws_config::SdkConfig;
use std::sync::Arc;
use std::time::Duration;
use switchboard_domain::SystemClock;
use switchboard_meta::graph::GraphClient;
use switchboard_platform::dead_letter::DeadLetters;
use switchboard_platform::media_store::MediaStore;
use switchboard_platform::token_vault::{CacheLimits, TokenVault};
use switchboard_platform::{Config, aws, metrics};
use switchboard_store::Store;

/// Meta's `GET /{media-id}` answers in well under a second. The download has its own, longer
/// limit (`graph::media`), sized for a 100 MB document.
const GRAPH_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("TOKEN_KEY_ID is not set: tenants' Meta tokens are opened with that KMS key")]
    MissingTokenKey,
    #[error("could not build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

pub fn init(config: &Config, sdk: &SdkConfig) -> Result<Arc<MediaState>, InitError> {
    let token_key_id = config
        .token_key_id
        .as_deref()
        .ok_or(InitError::MissingTokenKey)?;
    let http = reqwest::Client::builder()
        .timeout(GRAPH_TIMEOUT)
        .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
        .build()?;
    Ok(Arc::new(MediaState {
        store: Store::new(aws_sdk_dynamodb::Client::new(sdk), &config.table_name),
        graph: GraphClient::new(http, &config.graph_api_base_url, &config.graph_api_version),
        vault: TokenVault::new(
            aws_sdk_kms::Client::new(sdk),
            token_key_id,
            CacheLimits::default(),
        ),
        media: MediaStore::new(
            aws::s3_client(sdk),
            config.data_bucket.clone(),
            config.media_key_id.clone(),
        ),
        clock: Arc::new(SystemClock),
        metrics: metrics::stdout_sink(),
        dead_letters: config.dead_letters.as_ref().map(|(url, max_receives)| {
            DeadLetters::new(aws_sdk_sqs::Client::new(sdk), url, *max_receives)
        }),
    }))
}
