use lambda_runtime::{LambdaEvent, service_fn};
use std::sync::Arc;
use switchboard_platform::{Config, aws, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let sdk = aws::load_sdk_config().await;
    let state = switchboard_media::init(&config, &sdk)?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| {
        let state = Arc::clone(&state);
        async move {
            Ok::<_, lambda_runtime::Error>(
                switchboard_media::handle_batch(&state, event.payload).await,
            )
        }
    }))
    .await
}
