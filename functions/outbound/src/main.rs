use lambda_runtime::{LambdaEvent, service_fn};
use std::sync::Arc;
use switchboard_platform::{Config, aws, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let sdk = aws::load_sdk_config().await;
    let state = switchboard_outbound::init(&config, &sdk).await?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| {
        let state = Arc::clone(&state);
        async move {
            let deadline = switchboard_outbound::deadline_of(&event.context);
            Ok::<_, lambda_runtime::Error>(
                switchboard_outbound::handle_batch(&state, event.payload, deadline).await,
            )
        }
    }))
    .await
}
