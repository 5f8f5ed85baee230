//! Builds the function's state once per container; the Lambda main and the dev runner share it.

use crate::InboundState;
use aws_config::SdkConfig;
use std::sync::Arc;
use switchboard_domain::SystemClock;
use switchboard_platform::dead_letter::DeadLetters;
use switchboard_platform::queue::Queue;
use switchboard_platform::{Config, aws, blob::EventStore};
use switchboard_store::Store;

pub fn init(config: &Config, sdk: &SdkConfig) -> Arc<InboundState> {
    let store = Store::new(aws_sdk_dynamodb::Client::new(sdk), &config.table_name);
    let events = EventStore::new(aws::s3_client(sdk), &config.data_bucket);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let outbound = Queue::new(sqs.clone(), &config.outbound_queue_url);
    let mut state = InboundState::new(store, events, outbound, Arc::new(SystemClock));
    state.jobs = Some(Queue::new(sqs.clone(), &config.inbound_queue_url));
    state.media = config
        .media_queue_url
        .as_deref()
        .map(|url| Queue::new(sqs.clone(), url));
    state.dead_letters = config
        .dead_letters
        .as_ref()
        .map(|(url, max_receives)| DeadLetters::new(sqs, url, *max_receives));
    state.max_receives = config.dead_letters.as_ref().map(|(_, max)| *max);
    Arc::new(state)
}
