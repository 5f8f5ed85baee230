//! The Meta app's secrets, read once per container from Secrets Manager (never plain
//! environment): at init by the API, by its first request in the webhook.
//! Graph calls use each tenant's own token from Embedded Signup (see `business_token`), so no
//! platform-wide access token is kept here.

use serde::Deserialize;
use switchboard_domain::Secret;

#[derive(Clone, Deserialize)]
pub struct MetaSecrets {
    /// Keys `X-Hub-Signature-256`.
    pub app_secret: Secret,
    /// What Meta echoes in the subscription handshake.
    pub verify_token: Secret,
}

impl std::fmt::Debug for MetaSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetaSecrets([REDACTED])")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("could not read secret {id}: {reason}")]
    Fetch { id: String, reason: String },
    #[error("secret {id} is not JSON with app_secret and verify_token")]
    Shape { id: String },
}

pub async fn load_meta_secrets(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<MetaSecrets, SecretsError> {
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| SecretsError::Fetch {
            id: secret_id.to_owned(),
            reason: aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string(),
        })?;
    let text = out.secret_string().ok_or_else(|| SecretsError::Shape {
        id: secret_id.to_owned(),
    })?;
    // The parse error is dropped on purpose: serde would quote the secret's text.
    serde_json::from_str(text).map_err(|_| SecretsError::Shape {
        id: secret_id.to_owned(),
    })
}
