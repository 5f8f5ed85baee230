//! Shared AWS SDK configuration. `AWS_ENDPOINT_URL` (read by aws-config itself) points every
//! client at the local emulator.

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use std::time::Duration;

/// The configuration every function starts from: region, endpoint and the rest from the
/// environment as aws-config resolves them, with two changes that keep cold starts short:
///
/// - Credentials given in the environment (always so in Lambda) are used directly. The default
///   chain would pick them first too, but building it also builds an STS client for web
///   identity, which loads and parses the root certificates before the first `/next`.
/// - One HTTPS client for all service clients, whose TLS setup (root certificates) happens
///   once, at the first connection. Without one, each service client makes its own, and each
///   builds a TLS connector when it is constructed and again at its first request.
pub async fn load_sdk_config() -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(https_client());
    if env_has_credentials(|name| std::env::var_os(name)) {
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    loader.load().await
}

/// Whether the environment credentials provider would find credentials: both keys set and not
/// blank, as it requires (the secret key also as `SECRET_ACCESS_KEY`). When it would not, the
/// default chain looks further (profile, web identity, container, instance).
fn env_has_credentials(get: impl Fn(&str) -> Option<std::ffi::OsString>) -> bool {
    let set = |name: &str| get(name).is_some_and(|v| !v.to_string_lossy().trim().is_empty());
    set("AWS_ACCESS_KEY_ID") && (set("AWS_SECRET_ACCESS_KEY") || set("SECRET_ACCESS_KEY"))
}

/// The SDK's own default HTTPS client (rustls on aws-lc, proxies from the environment), shared.
fn https_client() -> DeferredTls {
    let client = Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    });
    DeferredTls(client)
}

/// Forwards everything to the client it holds except the check each service client runs when
/// it is built: the SDK's client answers it by building a TLS connector (loading the root
/// certificates) only to drop it. The connector the first request builds is the one kept, per
/// distinct connect and read timeouts.
#[derive(Debug)]
struct DeferredTls(SharedHttpClient);

impl HttpClient for DeferredTls {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// S3 needs path-style addressing against a custom endpoint: `<bucket>.127.0.0.1` does not resolve.
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let s3 = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(config.endpoint_url().is_some())
        .build();
    aws_sdk_s3::Client::from_conf(s3)
}

/// The same configuration with every call bounded: `operation` for the call with its retries,
/// `attempt` for each try.
pub fn with_timeouts(config: &SdkConfig, operation: Duration, attempt: Duration) -> SdkConfig {
    config
        .to_builder()
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(operation)
                .operation_attempt_timeout(attempt)
                .build(),
        )
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::ffi::OsString;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let vars: BTreeMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
            .collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn environment_credentials_need_both_keys_not_blank() {
        assert!(env_has_credentials(env(&[
            ("AWS_ACCESS_KEY_ID", "AKIA"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ])));
        assert!(env_has_credentials(env(&[
            ("AWS_ACCESS_KEY_ID", "AKIA"),
            ("SECRET_ACCESS_KEY", "secret"),
        ])));
        assert!(!env_has_credentials(env(&[("AWS_ACCESS_KEY_ID", "AKIA")])));
        assert!(!env_has_credentials(env(&[
            ("AWS_ACCESS_KEY_ID", " "),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ])));
        assert!(!env_has_credentials(env(&[])));
    }
}
