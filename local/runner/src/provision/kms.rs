//! `AWS::KMS::Key` and `AWS::KMS::Alias`. Keys have no name, so each local key also gets the
//! alias `alias/{physical name}`: that is how a second run finds the key the first one made.

use super::PhysicalResource;
use super::props::{flag, required_text, text};
use anyhow::Context;
use aws_sdk_kms::Client;
use aws_sdk_kms::error::DisplayErrorContext;
use aws_sdk_kms::types::{KeyMetadata, KeySpec, KeyUsageType};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub const KEY_KIND: &str = "AWS::KMS::Key";
pub const ALIAS_KIND: &str = "AWS::KMS::Alias";

/// The key policy is not sent: the emulator does not enforce key policies.
pub const KEY_APPLIED: &[&str] = &["Description", "EnableKeyRotation", "KeySpec", "KeyUsage"];
pub const ALIAS_APPLIED: &[&str] = &["AliasName", "TargetKeyId"];

pub async fn ensure_key(
    client: &Client,
    name: &str,
    props: &Map<String, Value>,
) -> anyhow::Result<PhysicalResource> {
    let marker = format!("alias/{name}");
    let existing = match client.describe_key().key_id(&marker).send().await {
        Ok(out) => out.key_metadata,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_not_found_exception()) =>
        {
            None
        }
        Err(e) => anyhow::bail!("looking up key {marker}: {}", DisplayErrorContext(e)),
    };
    let metadata = match existing {
        Some(metadata) => metadata,
        None => {
            let mut request =
                client
                    .create_key()
                    .set_description(text(props, "Description", name)?);
            if let Some(usage) = text(props, "KeyUsage", name)? {
                request = request.key_usage(KeyUsageType::from(usage.as_str()));
            }
            if let Some(spec) = text(props, "KeySpec", name)? {
                request = request.key_spec(KeySpec::from(spec.as_str()));
            }
            let metadata = request
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("creating key {name}: {}", DisplayErrorContext(e)))?
                .key_metadata
                .with_context(|| format!("key {name}: no metadata returned"))?;
            client
                .create_alias()
                .alias_name(&marker)
                .target_key_id(metadata.key_id())
                .send()
                .await
                .map_err(|e| {
                    anyhow::anyhow!("naming key {name} {marker}: {}", DisplayErrorContext(e))
                })?;
            if flag(props, "EnableKeyRotation", name)?.unwrap_or(false) {
                client
                    .enable_key_rotation()
                    .key_id(metadata.key_id())
                    .send()
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "enabling rotation of key {name}: {}",
                            DisplayErrorContext(e)
                        )
                    })?;
            }
            metadata
        }
    };
    Ok(key_resource(name, &metadata))
}

fn key_resource(name: &str, metadata: &KeyMetadata) -> PhysicalResource {
    let key_id = metadata.key_id().to_owned();
    let arn = metadata.arn().unwrap_or_default().to_owned();
    PhysicalResource {
        kind: KEY_KIND.to_owned(),
        name: name.to_owned(),
        arn: arn.clone(),
        url: None,
        reference: key_id.clone(),
        attributes: BTreeMap::from([("Arn".to_owned(), arn), ("KeyId".to_owned(), key_id)]),
    }
}

/// The alias keeps the name the template gives it (usually built from `AWS::StackName`, which
/// is the local prefix); an existing alias is pointed at the declared key.
pub async fn ensure_alias(
    client: &Client,
    logical_id: &str,
    props: &Map<String, Value>,
    region: &str,
    account_id: Option<&str>,
) -> anyhow::Result<PhysicalResource> {
    let alias = required_text(props, "AliasName", logical_id)?;
    let target = required_text(props, "TargetKeyId", logical_id)?;
    match client
        .create_alias()
        .alias_name(&alias)
        .target_key_id(&target)
        .send()
        .await
    {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_already_exists_exception()) =>
        {
            client
                .update_alias()
                .alias_name(&alias)
                .target_key_id(&target)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("retargeting {alias}: {}", DisplayErrorContext(e)))?;
        }
        Err(e) => anyhow::bail!("creating {alias}: {}", DisplayErrorContext(e)),
    }
    let arn = account_id
        .map(|account| format!("arn:aws:kms:{region}:{account}:{alias}"))
        .unwrap_or_default();
    Ok(PhysicalResource {
        kind: ALIAS_KIND.to_owned(),
        name: alias.clone(),
        arn,
        url: None,
        reference: alias,
        attributes: BTreeMap::new(),
    })
}
