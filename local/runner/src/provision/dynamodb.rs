//! `AWS::DynamoDB::Table`: keys, indexes, billing, stream, encryption and TTL as declared.

use super::PhysicalResource;
use super::props::{flag, number, object, objects, required_text, text, texts};
use anyhow::Context;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    LocalSecondaryIndex, Projection, ProjectionType, ProvisionedThroughput, ScalarAttributeType,
    SseSpecification, SseType, StreamSpecification, StreamViewType, TableDescription,
    TimeToLiveSpecification, TimeToLiveStatus,
};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub const KIND: &str = "AWS::DynamoDB::Table";

/// Properties this module reproduces; any other is reported as not applied locally.
pub const APPLIED: &[&str] = &[
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "ProvisionedThroughput",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "StreamSpecification",
    "SSESpecification",
    "TimeToLiveSpecification",
];

pub async fn ensure_table(
    client: &Client,
    name: &str,
    props: &Map<String, Value>,
) -> anyhow::Result<PhysicalResource> {
    let at = name;
    let mut request = client
        .create_table()
        .table_name(name)
        .set_attribute_definitions(Some(attribute_definitions(props, at)?))
        .set_key_schema(Some(key_schema(props, at)?));
    let billing = text(props, "BillingMode", at)?.unwrap_or_else(|| "PROVISIONED".into());
    request = request.billing_mode(BillingMode::from(billing.as_str()));
    if let Some(throughput) = throughput(props, at)? {
        request = request.provisioned_throughput(throughput);
    }
    for (i, index) in objects(props, "GlobalSecondaryIndexes", at)?
        .into_iter()
        .enumerate()
    {
        let at = format!("{at}.GlobalSecondaryIndexes[{i}]");
        let mut gsi = GlobalSecondaryIndex::builder()
            .index_name(required_text(index, "IndexName", &at)?)
            .set_key_schema(Some(key_schema(index, &at)?))
            .projection(projection(index, &at)?);
        if let Some(throughput) = throughput(index, &at)? {
            gsi = gsi.provisioned_throughput(throughput);
        }
        request = request.global_secondary_indexes(gsi.build()?);
    }
    for (i, index) in objects(props, "LocalSecondaryIndexes", at)?
        .into_iter()
        .enumerate()
    {
        let at = format!("{at}.LocalSecondaryIndexes[{i}]");
        request = request.local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name(required_text(index, "IndexName", &at)?)
                .set_key_schema(Some(key_schema(index, &at)?))
                .projection(projection(index, &at)?)
                .build()?,
        );
    }
    if let Some(stream) = object(props, "StreamSpecification", at)? {
        let view = required_text(
            stream,
            "StreamViewType",
            &format!("{at}.StreamSpecification"),
        )?;
        request = request.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(view.as_str()))
                .build()?,
        );
    }
    if let Some(sse) = object(props, "SSESpecification", at)? {
        let at = format!("{at}.SSESpecification");
        let mut spec =
            SseSpecification::builder().enabled(flag(sse, "SSEEnabled", &at)?.unwrap_or(false));
        if let Some(kind) = text(sse, "SSEType", &at)? {
            spec = spec.sse_type(SseType::from(kind.as_str()));
        }
        if let Some(key) = text(sse, "KMSMasterKeyId", &at)? {
            spec = spec.kms_master_key_id(key);
        }
        request = request.sse_specification(spec.build());
    }

    let (description, created) = match request.send().await {
        Ok(out) => (out.table_description, true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            let out = client
                .describe_table()
                .table_name(name)
                .send()
                .await
                .map_err(|e| {
                    anyhow::anyhow!("describing table {name}: {}", DisplayErrorContext(e))
                })?;
            (out.table, false)
        }
        Err(e) => anyhow::bail!("creating table {name}: {}", DisplayErrorContext(e)),
    };
    let description =
        description.with_context(|| format!("table {name}: no description returned"))?;

    if let Some(ttl) = object(props, "TimeToLiveSpecification", at)? {
        let at = format!("{at}.TimeToLiveSpecification");
        if flag(ttl, "Enabled", &at)?.unwrap_or(false) {
            let attribute = required_text(ttl, "AttributeName", &at)?;
            ensure_ttl(client, name, &attribute, created).await?;
        }
    }
    Ok(physical(name, &description))
}

fn physical(name: &str, description: &TableDescription) -> PhysicalResource {
    let arn = description.table_arn().unwrap_or_default().to_owned();
    let mut attributes = BTreeMap::from([("Arn".to_owned(), arn.clone())]);
    if let Some(stream) = description.latest_stream_arn() {
        attributes.insert("StreamArn".to_owned(), stream.to_owned());
    }
    PhysicalResource {
        kind: KIND.to_owned(),
        name: name.to_owned(),
        arn,
        url: None,
        reference: name.to_owned(),
        attributes,
    }
}

/// DynamoDB rejects enabling TTL twice, so an existing table is asked first.
async fn ensure_ttl(
    client: &Client,
    table: &str,
    attribute: &str,
    fresh: bool,
) -> anyhow::Result<()> {
    if !fresh {
        let current = client
            .describe_time_to_live()
            .table_name(table)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!("describing TTL of {table}: {}", DisplayErrorContext(e))
            })?;
        let enabled_on = current
            .time_to_live_description()
            .filter(|d| {
                matches!(
                    d.time_to_live_status(),
                    Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
                )
            })
            .and_then(|d| d.attribute_name());
        if enabled_on == Some(attribute) {
            return Ok(());
        }
    }
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(attribute)
                .enabled(true)
                .build()?,
        )
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "enabling TTL on {table}.{attribute}: {}",
                DisplayErrorContext(e)
            )
        })?;
    Ok(())
}

fn attribute_definitions(
    props: &Map<String, Value>,
    at: &str,
) -> anyhow::Result<Vec<AttributeDefinition>> {
    objects(props, "AttributeDefinitions", at)?
        .into_iter()
        .enumerate()
        .map(|(i, def)| {
            let at = format!("{at}.AttributeDefinitions[{i}]");
            let kind = required_text(def, "AttributeType", &at)?;
            Ok(AttributeDefinition::builder()
                .attribute_name(required_text(def, "AttributeName", &at)?)
                .attribute_type(ScalarAttributeType::from(kind.as_str()))
                .build()?)
        })
        .collect()
}

fn key_schema(obj: &Map<String, Value>, at: &str) -> anyhow::Result<Vec<KeySchemaElement>> {
    let keys = objects(obj, "KeySchema", at)?;
    anyhow::ensure!(!keys.is_empty(), "{at}.KeySchema is required");
    keys.into_iter()
        .enumerate()
        .map(|(i, key)| {
            let at = format!("{at}.KeySchema[{i}]");
            let kind = required_text(key, "KeyType", &at)?;
            Ok(KeySchemaElement::builder()
                .attribute_name(required_text(key, "AttributeName", &at)?)
                .key_type(KeyType::from(kind.as_str()))
                .build()?)
        })
        .collect()
}

fn projection(index: &Map<String, Value>, at: &str) -> anyhow::Result<Projection> {
    let Some(projection) = object(index, "Projection", at)? else {
        return Ok(Projection::builder()
            .projection_type(ProjectionType::All)
            .build());
    };
    let at = format!("{at}.Projection");
    let mut builder = Projection::builder();
    if let Some(kind) = text(projection, "ProjectionType", &at)? {
        builder = builder.projection_type(ProjectionType::from(kind.as_str()));
    }
    let non_key = texts(projection, "NonKeyAttributes", &at)?;
    if !non_key.is_empty() {
        builder = builder.set_non_key_attributes(Some(non_key));
    }
    Ok(builder.build())
}

fn throughput(obj: &Map<String, Value>, at: &str) -> anyhow::Result<Option<ProvisionedThroughput>> {
    let Some(t) = object(obj, "ProvisionedThroughput", at)? else {
        return Ok(None);
    };
    let at = format!("{at}.ProvisionedThroughput");
    let units = |key: &str| number(t, key, &at)?.with_context(|| format!("{at}.{key} is required"));
    Ok(Some(
        ProvisionedThroughput::builder()
            .read_capacity_units(units("ReadCapacityUnits")?)
            .write_capacity_units(units("WriteCapacityUnits")?)
            .build()?,
    ))
}
