//! Logging: JSON lines in Lambda (CloudWatch parses them), readable text on a terminal.

use tracing_subscriber::{EnvFilter, fmt};

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let result = if in_lambda {
        fmt()
            .json()
            .with_env_filter(filter)
            .with_current_span(true)
            .with_span_list(false)
            .without_time() // CloudWatch stamps every line
            .with_target(false)
            .try_init()
    } else {
        fmt().with_env_filter(filter).with_target(false).try_init()
    };
    // A second init (tests, the dev runner hosting several functions) keeps the first subscriber.
    let _ = result;
}
