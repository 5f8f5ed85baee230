//! Secrets Manager secrets standing in for template parameters that, in a deployment, carry the
//! ARN of a secret created by hand (e.g. `MetaSecretArn`).

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;

/// Creates the secret, or gives an existing one the requested value; returns its ARN.
/// Errors name the secret, never its value.
pub async fn ensure_secret(client: &Client, name: &str, value: &str) -> anyhow::Result<String> {
    let arn = match client
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
    {
        Ok(out) => out.arn,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_exists_exception()) =>
        {
            client
                .put_secret_value()
                .secret_id(name)
                .secret_string(value)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("updating secret {name}: {}", DisplayErrorContext(e)))?
                .arn
        }
        Err(e) => anyhow::bail!("creating secret {name}: {}", DisplayErrorContext(e)),
    };
    arn.ok_or_else(|| anyhow::anyhow!("secret {name}: no ARN returned"))
}
