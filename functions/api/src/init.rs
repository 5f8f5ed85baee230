//! Builds the function's state once per container; the Lambda main and the dev runner share it.

use crate::{ApiKeyAuthenticator, ApiState};
use aws_config::SdkConfig;
use std::sync::Arc;
use switchboard_domain::SystemClock;
use switchboard_platform::{Config, queue::Queue};
use switchboard_store::{IdempotencyStore, Store};

pub fn init(config: &Config, sdk: &SdkConfig) -> Arc<ApiState> {
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    let store = Store::new(dynamo.clone(), &config.table_name);
    Arc::new(ApiState {
        auth: Arc::new(ApiKeyAuthenticator::new(store.clone())),
        idempotency: IdempotencyStore::new(dynamo, &config.table_name),
        store,
        outbound_queue: Queue::new(aws_sdk_sqs::Client::new(sdk), &config.outbound_queue_url),
        clock: Arc::new(SystemClock),
    })
}
