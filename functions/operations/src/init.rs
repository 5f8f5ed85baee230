//! Builds the function's state once per container; the Lambda main and the dev runner share it.

use crate::OperationsState;
use aws_config::SdkConfig;
use std::sync::Arc;
use std::time::Duration;
use switchboard_platform::{Config, aws, blob::Quarantine};
use switchboard_store::Store;
use switchboard_webhook::EventIntake;

/// Every AWS call is bounded, so a stuck one fails as an answer well inside the function's
/// timeout (60 s) rather than as a timed-out invocation.
const AWS_OPERATION_TIMEOUT: Duration = Duration::from_secs(10);
const AWS_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);

pub fn init(config: &Config, sdk: &SdkConfig) -> Arc<OperationsState> {
    let sdk = &aws::with_timeouts(sdk, AWS_OPERATION_TIMEOUT, AWS_ATTEMPT_TIMEOUT);
    Arc::new(OperationsState {
        intake: EventIntake::new(config, sdk),
        quarantine: Quarantine::new(aws::s3_client(sdk), &config.data_bucket),
        store: Store::new(aws_sdk_dynamodb::Client::new(sdk), &config.table_name),
        sqs: aws_sdk_sqs::Client::new(sdk),
        dead_letters: config
            .dead_letter_queues
            .iter()
            .filter_map(|(name, dead)| {
                let source = match *name {
                    "inbound" => Some(config.inbound_queue_url.clone()),
                    "outbound" => Some(config.outbound_queue_url.clone()),
                    "media" => config.media_queue_url.clone(),
                    _ => None,
                }?;
                Some((*name, (dead.clone(), source)))
            })
            .collect(),
    })
}
