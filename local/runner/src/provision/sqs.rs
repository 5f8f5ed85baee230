//! `AWS::SQS::Queue`: standard or FIFO, with the declared timeouts, encryption and redrive.

use super::PhysicalResource;
use super::props::flag;
use anyhow::Context;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

pub const KIND: &str = "AWS::SQS::Queue";

/// Queue properties whose names are also the SQS attribute names.
pub const APPLIED: &[&str] = &[
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "RedriveAllowPolicy",
    "RedrivePolicy",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
];

/// FIFO queue names must end in `.fifo`.
pub fn is_fifo(props: &Map<String, Value>) -> anyhow::Result<bool> {
    Ok(flag(props, "FifoQueue", "queue")?.unwrap_or(false))
}

pub async fn ensure_queue(
    client: &Client,
    name: &str,
    props: &Map<String, Value>,
) -> anyhow::Result<PhysicalResource> {
    let attributes = attributes(props).with_context(|| format!("queue {name}"))?;
    let url = match client
        .create_queue()
        .queue_name(name)
        .set_attributes(Some(attributes.clone()))
        .send()
        .await
    {
        Ok(out) => out
            .queue_url
            .with_context(|| format!("queue {name}: no URL returned"))?,
        // The queue exists with other attributes (the template changed): bring it up to date.
        Err(e) if already_exists(&e) => {
            let url = client
                .get_queue_url()
                .queue_name(name)
                .send()
                .await
                .map_err(|e| {
                    anyhow::anyhow!("looking up queue {name}: {}", DisplayErrorContext(e))
                })?
                .queue_url
                .with_context(|| format!("queue {name}: no URL returned"))?;
            let mut mutable = attributes;
            mutable.remove(&QueueAttributeName::FifoQueue);
            client
                .set_queue_attributes()
                .queue_url(&url)
                .set_attributes(Some(mutable))
                .send()
                .await
                .map_err(|e| {
                    anyhow::anyhow!("updating queue {name}: {}", DisplayErrorContext(e))
                })?;
            url
        }
        Err(e) => anyhow::bail!("creating queue {name}: {}", DisplayErrorContext(e)),
    };
    let arn = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "reading the ARN of queue {name}: {}",
                DisplayErrorContext(e)
            )
        })?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .with_context(|| format!("queue {name}: no ARN returned"))?;
    Ok(PhysicalResource {
        kind: KIND.to_owned(),
        name: name.to_owned(),
        arn: arn.clone(),
        url: Some(url.clone()),
        reference: url.clone(),
        attributes: BTreeMap::from([
            ("Arn".to_owned(), arn),
            ("QueueName".to_owned(), name.to_owned()),
            ("QueueUrl".to_owned(), url),
        ]),
    })
}

fn already_exists<E: ProvideErrorMetadata>(e: &aws_sdk_sqs::error::SdkError<E>) -> bool {
    matches!(
        e.code(),
        Some("QueueAlreadyExists" | "QueueNameExists" | "AWS.SimpleQueueService.QueueNameExists")
    )
}

/// SQS takes every attribute as a string; policies are JSON documents in a string.
fn attributes(props: &Map<String, Value>) -> anyhow::Result<HashMap<QueueAttributeName, String>> {
    let mut out = HashMap::new();
    for name in APPLIED {
        let value = match props.get(*name) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Bool(b)) => b.to_string(),
            Some(document @ Value::Object(_)) => document.to_string(),
            Some(other) => anyhow::bail!("{name}: unexpected value {other}"),
        };
        out.insert(QueueAttributeName::from(*name), value);
    }
    Ok(out)
}
