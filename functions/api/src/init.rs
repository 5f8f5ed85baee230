//! Builds the function's state once per container; the Lambda main and the dev runner share it.

use crate::{AccessTokens, ApiState, AuditLog};
use aws_config::SdkConfig;
use std::sync::Arc;
use switchboard_domain::{Secret, SystemClock};
use switchboard_platform::{Config, queue::Queue};
use switchboard_store::{CursorCodec, IdempotencyStore, Store, WeakCursorKey};

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
    #[error("secret {id} has no string value")]
    NotAString { id: String },
    #[error("secret {id}: {source}")]
    WeakKey {
        id: String,
        #[source]
        source: WeakCursorKey,
    },
}

pub async fn init(config: &Config, sdk: &SdkConfig) -> Result<Arc<ApiState>, InitError> {
    let cursor_secret_id = config
        .cursor_secret_id
        .as_deref()
        .ok_or(InitError::MissingCursorSecret)?;
    let secrets = aws_sdk_secretsmanager::Client::new(sdk);
    let secret = load_secret(&secrets, cursor_secret_id).await?;
    let access_secret_id = config
        .access_token_secret_id
        .as_deref()
        .ok_or(InitError::MissingAccessTokenSecret)?;
    let access_tokens = AccessTokens::new(&load_secret(&secrets, access_secret_id).await?)
        .map_err(|source| InitError::WeakSigningKey {
            id: access_secret_id.to_owned(),
            source,
        })?;
    let cursors = CursorCodec::new(&secret, CursorCodec::DEFAULT_TTL).map_err(|source| {
        InitError::WeakKey {
            id: cursor_secret_id.to_owned(),
            source,
        }
    })?;
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    let store = Store::new(dynamo.clone(), &config.table_name);
    let clock: Arc<dyn switchboard_domain::Clock> = Arc::new(SystemClock);
    Ok(Arc::new(ApiState {
        access_tokens,
        audit: AuditLog::new(store.clone(), Arc::clone(&clock)),
        console_origins: config.console_origins.clone(),
        idempotency: IdempotencyStore::new(dynamo, &config.table_name),
        store,
        outbound_queue: Queue::new(aws_sdk_sqs::Client::new(sdk), &config.outbound_queue_url),
        clock,
        cursors,
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
