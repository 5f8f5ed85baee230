//! Secrets Manager secrets: those standing in for template parameters that, in a deployment,
//! carry the ARN of a secret created by hand (e.g. `MetaSecretArn`), and the
//! `AWS::SecretsManager::Secret` resources the template declares itself.

use super::PhysicalResource;
use super::props::{flag, number, object, text};
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Creates the secret, or gives an existing one the requested value; returns its ARN.
/// Errors name the secret, never its value.
pub async fn ensure_secret(client: &Client, name: &str, value: &str) -> anyhow::Result<String> {
    let arn = match client
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
    {
        Ok(out) => out.arn,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_exists_exception()) =>
        {
            client
                .put_secret_value()
                .secret_id(name)
                .secret_string(value)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("updating secret {name}: {}", DisplayErrorContext(e)))?
                .arn
        }
        Err(e) => anyhow::bail!("creating secret {name}: {}", DisplayErrorContext(e)),
    };
    arn.ok_or_else(|| anyhow::anyhow!("secret {name}: no ARN returned"))
}

pub const KIND: &str = "AWS::SecretsManager::Secret";
/// `Name` is not applied: local secrets are named from the prefix, like every other resource.
/// `KmsKeyId`, `Tags` and `ReplicaRegions` have no local effect.
pub const APPLIED: &[&str] = &["Description", "SecretString", "GenerateSecretString"];

/// `GenerateSecretString` options, as `GetRandomPassword` takes them.
const GENERATE_OPTIONS: &[&str] = &[
    "PasswordLength",
    "ExcludeCharacters",
    "ExcludeLowercase",
    "ExcludeNumbers",
    "ExcludePunctuation",
    "ExcludeUppercase",
    "IncludeSpace",
    "RequireEachIncludedType",
    "SecretStringTemplate",
    "GenerateStringKey",
];

/// A secret the template declares. A `SecretString` is set as given; a `GenerateSecretString`
/// secret gets a random value the first time and keeps it afterwards, as CloudFormation keeps
/// it across stack updates (so a restarted dev stack still accepts its cursors).
pub async fn ensure_template_secret(
    client: &Client,
    name: &str,
    props: &Map<String, Value>,
) -> anyhow::Result<PhysicalResource> {
    let description = text(props, "Description", name)?;
    let arn = match (
        text(props, "SecretString", name)?,
        object(props, "GenerateSecretString", name)?,
    ) {
        (Some(_), Some(_)) => {
            anyhow::bail!("{name}: give SecretString or GenerateSecretString, not both")
        }
        (Some(value), None) => ensure_secret(client, name, &value).await?,
        (None, generate) => match existing_arn(client, name).await? {
            Some(arn) => arn,
            None => {
                // Neither property: CloudFormation creates the secret without a value.
                let value = match generate {
                    Some(options) => Some(generate_value(client, name, options).await?),
                    None => None,
                };
                create(client, name, value.as_deref(), description.as_deref()).await?
            }
        },
    };
    Ok(PhysicalResource {
        kind: KIND.to_owned(),
        name: name.to_owned(),
        arn: arn.clone(),
        url: None,
        // `!Ref` and `!GetAtt .Id` of a secret are its ARN.
        reference: arn.clone(),
        attributes: BTreeMap::from([("Id".to_owned(), arn)]),
    })
}

async fn existing_arn(client: &Client, name: &str) -> anyhow::Result<Option<String>> {
    match client.describe_secret().secret_id(name).send().await {
        Ok(out) => Ok(out.arn),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => anyhow::bail!("looking up secret {name}: {}", DisplayErrorContext(e)),
    }
}

async fn create(
    client: &Client,
    name: &str,
    value: Option<&str>,
    description: Option<&str>,
) -> anyhow::Result<String> {
    client
        .create_secret()
        .name(name)
        .set_secret_string(value.map(str::to_owned))
        .set_description(description.map(str::to_owned))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("creating secret {name}: {}", DisplayErrorContext(e)))?
        .arn
        .ok_or_else(|| anyhow::anyhow!("secret {name}: no ARN returned"))
}

/// The random value `GenerateSecretString` describes, from the emulator's `GetRandomPassword`
/// (CloudFormation's own defaults: 32 characters of every class). With `SecretStringTemplate`
/// and `GenerateStringKey`, the value is the template with the password added under that key.
async fn generate_value(
    client: &Client,
    name: &str,
    options: &Map<String, Value>,
) -> anyhow::Result<String> {
    let at = format!("{name}.GenerateSecretString");
    if let Some(unknown) = options
        .keys()
        .find(|k| !GENERATE_OPTIONS.contains(&k.as_str()))
    {
        anyhow::bail!("{at}.{unknown} is not a GenerateSecretString option");
    }
    let option = |key: &str| flag(options, key, &at);
    let request = client
        .get_random_password()
        .set_password_length(number(options, "PasswordLength", &at)?)
        .set_exclude_characters(text(options, "ExcludeCharacters", &at)?)
        .set_exclude_lowercase(option("ExcludeLowercase")?)
        .set_exclude_numbers(option("ExcludeNumbers")?)
        .set_exclude_punctuation(option("ExcludePunctuation")?)
        .set_exclude_uppercase(option("ExcludeUppercase")?)
        .set_include_space(option("IncludeSpace")?)
        .set_require_each_included_type(option("RequireEachIncludedType")?);
    let password = request
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("generating {at}: {}", DisplayErrorContext(e)))?
        .random_password
        .ok_or_else(|| anyhow::anyhow!("{at}: no password returned"))?;
    match (
        text(options, "SecretStringTemplate", &at)?,
        text(options, "GenerateStringKey", &at)?,
    ) {
        (None, None) => Ok(password),
        (Some(template), Some(key)) => {
            let mut value: Map<String, Value> = serde_json::from_str(&template)
                .map_err(|_| anyhow::anyhow!("{at}.SecretStringTemplate is not a JSON object"))?;
            value.insert(key, Value::String(password));
            Ok(Value::Object(value).to_string())
        }
        _ => anyhow::bail!("{at}: SecretStringTemplate and GenerateStringKey go together"),
    }
}
