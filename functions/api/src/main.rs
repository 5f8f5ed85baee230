use switchboard_platform::{Config, aws, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let sdk = aws::load_sdk_config().await;
    let state = switchboard_api::init(&config, &sdk).await?;
    lambda_http::run(switchboard_api::router(state)).await
}
