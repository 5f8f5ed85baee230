use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use std::sync::Arc;
use switchboard_platform::{Config, aws, telemetry};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let sdk = aws::load_sdk_config().await;
    let state = switchboard_template_sync::init(&config, &sdk)?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let state = Arc::clone(&state);
        let span = tracing::info_span!("invocation", request_id = %event.context.request_id);
        async move {
            switchboard_template_sync::handle(&state, event.payload)
                .await
                .map_err(lambda_runtime::Error::from)
        }
        .instrument(span)
    }))
    .await
}
