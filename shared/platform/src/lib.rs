//! AWS adapters other than DynamoDB (SQS, S3, Secrets Manager), configuration, telemetry.

pub mod aws;
pub mod blob;
pub mod business_token;
pub mod config;
pub mod dead_letter;
pub mod failure_reason;
pub mod media_store;
pub mod metrics;
pub mod outbound_gate;
pub mod outbox;
pub mod queue;
pub mod request_span;
pub mod secrets;
pub mod telemetry;
pub mod token_vault;

pub use config::{Config, ConfigError};
