//! Shared AWS SDK configuration. `AWS_ENDPOINT_URL` (read by aws-config itself) points every
//! client at the local emulator.

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use std::time::Duration;

pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
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
