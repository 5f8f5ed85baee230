use switchboard_platform::{Config, aws, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let sdk = aws::load_sdk_config().await;
    // Init does not wait for Secrets Manager: the first request reads the Meta secrets.
    let state = switchboard_webhook::init_deferred(&config, &sdk);
    lambda_http::run(switchboard_webhook::router(state)).await
}
