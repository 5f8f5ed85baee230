//! Builds the function's state once per container; the Lambda main and the dev runner share it.

use crate::{AccessTokens, ApiState, AuditLog, MetaApp};
use aws_config::SdkConfig;
use std::sync::Arc;
use std::time::Duration;
use switchboard_domain::{Secret, SystemClock};
use switchboard_meta::graph::GraphClient;
use switchboard_platform::token_vault::{CacheLimits, TokenVault};
use switchboard_platform::{Config, queue::Queue};
use switchboard_store::{CursorCodec, IdempotencyStore, Store, WeakCursorKey};

/// Every Embedded Signup step is one Graph call; a stuck one must end well inside the
/// function's 29 s.
const GRAPH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the API could not start. Names secrets by id, never by value.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("CURSOR_SECRET_ID is not set: the API signs page cursors with that secret")]
    MissingCursorSecret,
    #[error("ACCESS_TOKEN_SECRET_ID is not set: the API signs access tokens with that secret")]
    MissingAccessTokenSecret,
    #[error("secret {id}: {source}")]
    WeakSigningKey {
        id: String,
        #[source]
        source: crate::tokens::WeakSigningKey,
    },
    #[error("could not read secret {id}: {reason}")]
    Fetch { id: String, reason: String },
    #[error("TOKEN_KEY_ID is not set: tenants' Meta tokens are sealed with that KMS key")]
    MissingTokenKey,
    #[error(transparent)]
    MetaSecrets(#[from] switchboard_platform::secrets::SecretsError),
    #[error("could not build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("secret {id} has no string value")]
    NotAString { id: String },
    #[error("secret {id}: {source}")]
    WeakKey {
        id: String,
        #[source]
        source: WeakCursorKey,
    },
    #[error("secret {id}: {source}")]
    WeakOperatorKey {
        id: String,
        #[source]
        source: crate::WeakOperatorKey,
    },
}

pub async fn init(config: &Config, sdk: &SdkConfig) -> Result<Arc<ApiState>, InitError> {
    let cursor_secret_id = config
        .cursor_secret_id
        .as_deref()
        .ok_or(InitError::MissingCursorSecret)?;
    let access_secret_id = config
        .access_token_secret_id
        .as_deref()
        .ok_or(InitError::MissingAccessTokenSecret)?;
    let token_key_id = config
        .token_key_id
        .as_deref()
        .ok_or(InitError::MissingTokenKey)?;
    let secrets = aws_sdk_secretsmanager::Client::new(sdk);
    // Independent reads: init waits for the slowest one instead of for each in turn.
    let (secret, access_secret, operator_secret, meta) = tokio::try_join!(
        load_secret(&secrets, cursor_secret_id),
        load_secret(&secrets, access_secret_id),
        // Optional: a deployment without an operator has no operator routes.
        async {
            match config.operator_secret_id.as_deref() {
                None => Ok(None),
                Some(id) => load_secret(&secrets, id).await.map(|s| Some((id, s))),
            }
        },
        async {
            Ok(
                switchboard_platform::secrets::load_meta_secrets(&secrets, &config.meta_secret_id)
                    .await?,
            )
        },
    )?;
    let access_tokens =
        AccessTokens::new(&access_secret).map_err(|source| InitError::WeakSigningKey {
            id: access_secret_id.to_owned(),
            source,
        })?;
    let operator_key = operator_secret
        .map(|(id, key)| {
            crate::OperatorKey::new(&key).map_err(|source| InitError::WeakOperatorKey {
                id: id.to_owned(),
                source,
            })
        })
        .transpose()?;
    let cursors = CursorCodec::new(&secret, CursorCodec::DEFAULT_TTL).map_err(|source| {
        InitError::WeakKey {
            id: cursor_secret_id.to_owned(),
            source,
        }
    })?;
    let meta_app = config.meta_app_id.clone().map(|app_id| MetaApp {
        app_id,
        app_secret: meta.app_secret,
    });
    let http = reqwest::Client::builder()
        .timeout(GRAPH_TIMEOUT)
        .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let graph = GraphClient::new(http, &config.graph_api_base_url, &config.graph_api_version);
    let vault = TokenVault::new(
        aws_sdk_kms::Client::new(sdk),
        token_key_id,
        CacheLimits::default(),
    );
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    let store = Store::new(dynamo.clone(), &config.table_name);
    let clock: Arc<dyn switchboard_domain::Clock> = Arc::new(SystemClock);
    Ok(Arc::new(ApiState {
        access_tokens,
        operator_key,
        audit: AuditLog::new(store.clone(), Arc::clone(&clock)),
        console_origins: config.console_origins.clone(),
        idempotency: IdempotencyStore::new(dynamo, &config.table_name),
        store,
        outbound_queue: Queue::new(aws_sdk_sqs::Client::new(sdk), &config.outbound_queue_url),
        inbound_queue: Queue::new(aws_sdk_sqs::Client::new(sdk), &config.inbound_queue_url),
        graph,
        vault,
        meta_app,
        clock,
        cursors,
        metrics: switchboard_platform::metrics::stdout_sink(),
        media: switchboard_platform::media_store::MediaStore::new(
            switchboard_platform::aws::s3_client(sdk),
            config.data_bucket.clone(),
            config.media_key_id.clone(),
        ),
        aws: sdk.clone(),
    }))
}

/// The secret's whole string value (`GenerateSecretString` without a template makes one).
async fn load_secret(
    client: &aws_sdk_secretsmanager::Client,
    id: &str,
) -> Result<Secret, InitError> {
    let out = client
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| InitError::Fetch {
            id: id.to_owned(),
            reason: aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string(),
        })?;
    out.secret_string()
        .map(Secret::new)
        .ok_or_else(|| InitError::NotAString { id: id.to_owned() })
}
