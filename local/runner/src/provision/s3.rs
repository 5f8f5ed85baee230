//! `AWS::S3::Bucket`: default encryption and versioning as declared. Lifecycle rules are not
//! sent: the emulator stores but never runs them, and nothing local may rely on them.

use super::PhysicalResource;
use super::props::{flag, object, objects, required_text, text};
use aws_sdk_s3::Client;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule, VersioningConfiguration,
};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub const KIND: &str = "AWS::S3::Bucket";

pub const APPLIED: &[&str] = &["BucketEncryption", "VersioningConfiguration"];

pub async fn ensure_bucket(
    client: &Client,
    region: &str,
    name: &str,
    props: &Map<String, Value>,
) -> anyhow::Result<PhysicalResource> {
    let mut request = client.create_bucket().bucket(name);
    // us-east-1 is the one region S3 refuses as an explicit location constraint.
    if region != "us-east-1" {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    match request.send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_bucket_already_owned_by_you()) => {}
        // One account per emulator: a bucket that "already exists" is ours if we can reach it.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_bucket_already_exists()) =>
        {
            client
                .head_bucket()
                .bucket(name)
                .send()
                .await
                .map_err(|e| {
                    anyhow::anyhow!(
                        "bucket {name} exists but is not reachable: {}",
                        DisplayErrorContext(e)
                    )
                })?;
        }
        Err(e) => anyhow::bail!("creating bucket {name}: {}", DisplayErrorContext(e)),
    }

    if let Some(encryption) = object(props, "BucketEncryption", name)? {
        let at = format!("{name}.BucketEncryption");
        let mut configuration = ServerSideEncryptionConfiguration::builder();
        for (i, rule) in objects(encryption, "ServerSideEncryptionConfiguration", &at)?
            .into_iter()
            .enumerate()
        {
            let at = format!("{at}.ServerSideEncryptionConfiguration[{i}]");
            let mut built = ServerSideEncryptionRule::builder();
            if let Some(default) = object(rule, "ServerSideEncryptionByDefault", &at)? {
                let at = format!("{at}.ServerSideEncryptionByDefault");
                let algorithm = required_text(default, "SSEAlgorithm", &at)?;
                built = built.apply_server_side_encryption_by_default(
                    ServerSideEncryptionByDefault::builder()
                        .sse_algorithm(ServerSideEncryption::from(algorithm.as_str()))
                        .set_kms_master_key_id(text(default, "KMSMasterKeyID", &at)?)
                        .build()?,
                );
            }
            if let Some(bucket_key) = flag(rule, "BucketKeyEnabled", &at)? {
                built = built.bucket_key_enabled(bucket_key);
            }
            configuration = configuration.rules(built.build());
        }
        client
            .put_bucket_encryption()
            .bucket(name)
            .server_side_encryption_configuration(configuration.build()?)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "setting encryption of bucket {name}: {}",
                    DisplayErrorContext(e)
                )
            })?;
    }

    if let Some(versioning) = object(props, "VersioningConfiguration", name)? {
        let status = required_text(
            versioning,
            "Status",
            &format!("{name}.VersioningConfiguration"),
        )?;
        client
            .put_bucket_versioning()
            .bucket(name)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::from(status.as_str()))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "setting versioning of bucket {name}: {}",
                    DisplayErrorContext(e)
                )
            })?;
    }

    let arn = format!("arn:aws:s3:::{name}");
    Ok(PhysicalResource {
        kind: KIND.to_owned(),
        name: name.to_owned(),
        arn: arn.clone(),
        url: None,
        reference: name.to_owned(),
        attributes: BTreeMap::from([
            ("Arn".to_owned(), arn),
            ("DomainName".to_owned(), format!("{name}.s3.amazonaws.com")),
            (
                "RegionalDomainName".to_owned(),
                format!("{name}.s3.{region}.amazonaws.com"),
            ),
        ]),
    })
}
