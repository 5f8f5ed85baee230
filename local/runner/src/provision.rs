//! Creates template.yaml's tables, queues, bucket and keys in the local AWS emulator, and
//! derives every function's environment and event sources from the same template, so the
//! local stack cannot drift from what `sam deploy` creates.
//!
//! Resources are named `{prefix}-{logical id, lowercased}` (`.fifo` appended for FIFO queues);
//! the prefix stands in for the stack name. Provisioning is idempotent per prefix, and
//! independent resources are created concurrently.

mod dynamodb;
mod functions;
mod intrinsics;
mod kms;
mod naming;
mod props;
mod s3;
mod secrets;
mod sqs;
pub(crate) mod template;

pub use intrinsics::IntrinsicError;
pub use naming::InvalidPrefix;
pub use template::TemplateError;

use anyhow::Context;
use aws_config::SdkConfig;
use intrinsics::{Pseudo, Scope, evaluate, references, resolve_conditions};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use template::{ParameterDecl, ResourceDecl, Template};

pub struct ProvisionRequest<'a> {
    pub template_path: &'a Path,
    /// Names every resource and stands in for `AWS::StackName`: lowercase letters, digits, '-'.
    pub prefix: &'a str,
    /// Template parameter values that replace the defaults.
    pub parameter_overrides: BTreeMap<String, String>,
    /// Template parameters that hold the ARN of a secret: for each, a secret `{prefix}/{name}`
    /// is created with the given JSON as its value, and its ARN becomes the parameter's value.
    pub secret_params: BTreeMap<String, String>,
}

/// A resource as it exists locally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhysicalResource {
    /// CloudFormation type, e.g. `AWS::SQS::Queue`.
    pub kind: String,
    pub name: String,
    pub arn: String,
    /// Queues only.
    pub url: Option<String>,
    /// What `!Ref` returns: the queue URL, table or bucket name, key id.
    pub reference: String,
    /// What `!GetAtt` returns, by attribute name (`Arn`, `QueueName`, `StreamArn`, ...).
    pub attributes: BTreeMap<String, String>,
}

/// A function consuming a queue, as its SQS event declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsBinding {
    /// Logical id of the function, e.g. `InboundFunction`.
    pub function: String,
    /// Name of the event in the function's `Events`.
    pub event: String,
    /// Logical id of the queue.
    pub queue: String,
    pub queue_url: String,
    pub queue_arn: String,
    pub batch_size: i32,
    pub maximum_batching_window_seconds: i32,
    pub fifo: bool,
    pub report_batch_item_failures: bool,
}

/// A function run on a `Schedule` or `ScheduleV2` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleBinding {
    pub function: String,
    pub event: String,
    /// `rate(...)` or `cron(...)`, as in the template.
    pub expression: String,
    /// The constant JSON input the schedule passes, if any.
    pub input: Option<String>,
}

/// A route of an `HttpApi` (or `Api`) event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRoute {
    pub function: String,
    pub event: String,
    /// Upper case; `ANY` matches every method.
    pub method: String,
    pub path: String,
}

#[derive(Debug, Clone)]
pub struct Provisioned {
    /// Environment of each function by logical id, every value resolved.
    pub function_env: BTreeMap<String, BTreeMap<String, String>>,
    pub sqs_bindings: Vec<SqsBinding>,
    pub schedules: Vec<ScheduleBinding>,
    pub http_routes: Vec<HttpRoute>,
    /// Every resource created (or found) locally, by logical id.
    pub resources: BTreeMap<String, PhysicalResource>,
    /// Function logical id -> the cargo binary it is built from (`BuildProperties.Binary`).
    pub function_binaries: BTreeMap<String, String>,
    /// Function logical id -> its timeout, which the local runner enforces as Lambda does.
    pub function_timeouts: BTreeMap<String, std::time::Duration>,
    /// Secret parameter (e.g. `MetaSecretArn`) -> the ARN of the local secret standing in.
    pub secret_parameters: BTreeMap<String, String>,
}

struct Clients {
    dynamodb: aws_sdk_dynamodb::Client,
    sqs: aws_sdk_sqs::Client,
    s3: aws_sdk_s3::Client,
    kms: aws_sdk_kms::Client,
    secrets: aws_sdk_secretsmanager::Client,
    region: String,
}

pub async fn provision(aws: &SdkConfig, req: &ProvisionRequest<'_>) -> anyhow::Result<Provisioned> {
    naming::check_prefix(req.prefix)?;
    let template = Template::load(req.template_path)?;
    let clients = Clients {
        dynamodb: aws_sdk_dynamodb::Client::new(aws),
        sqs: aws_sdk_sqs::Client::new(aws),
        s3: switchboard_platform::aws::s3_client(aws),
        kms: aws_sdk_kms::Client::new(aws),
        secrets: aws_sdk_secretsmanager::Client::new(aws),
        region: aws
            .region()
            .map_or_else(|| "us-east-1".to_owned(), |r| r.as_ref().to_owned()),
    };

    let secret_arns = create_secrets(&clients, &template, req).await?;
    let parameters =
        parameter_values(&template.parameters, &req.parameter_overrides, &secret_arns)?;
    let mut pseudo = Pseudo {
        region: clients.region.clone(),
        stack_name: req.prefix.to_owned(),
        account_id: secret_arns.values().find_map(|arn| account_of(arn)),
    };
    let no_conditions = BTreeMap::new();
    let no_resources = BTreeMap::new();
    let conditions = resolve_conditions(
        &template.conditions,
        &Scope {
            pseudo: &pseudo,
            parameters: &parameters,
            conditions: &no_conditions,
            mappings: &template.mappings,
            resources: &no_resources,
            declared: &template.resources,
        },
    )
    .context("evaluating the template's conditions")?;

    let active = |decl: &ResourceDecl| {
        decl.condition
            .as_ref()
            .is_none_or(|c| conditions.get(c) == Some(&true))
    };
    let (creatable, skipped): (BTreeMap<_, _>, BTreeMap<_, _>) = template
        .resources
        .iter()
        .filter(|(_, decl)| active(decl))
        .partition(|(_, decl)| applied_properties(&decl.kind).is_some());
    let not_local: Vec<String> = skipped
        .iter()
        .filter(|(_, decl)| decl.kind != functions::KIND)
        .map(|(id, decl)| format!("{id} ({})", decl.kind))
        .collect();
    tracing::debug!(resources = ?not_local, "not created locally");

    let mut resources = BTreeMap::new();
    let mut pending: BTreeMap<&String, BTreeSet<&String>> = creatable
        .iter()
        .map(|(id, decl)| (*id, dependencies(decl, &creatable)))
        .collect();
    while !pending.is_empty() {
        let ready: Vec<&String> = pending
            .iter()
            .filter(|(_, deps)| deps.iter().all(|d| resources.contains_key(*d)))
            .map(|(id, _)| *id)
            .collect();
        anyhow::ensure!(
            !ready.is_empty(),
            "resources depend on each other in a cycle: {}",
            pending
                .keys()
                .map(|id| id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let scope = Scope {
            pseudo: &pseudo,
            parameters: &parameters,
            conditions: &conditions,
            mappings: &template.mappings,
            resources: &resources,
            declared: &template.resources,
        };
        let mut wave = Vec::with_capacity(ready.len());
        for id in &ready {
            let decl = creatable[*id];
            let props = evaluated_properties(id, decl, &scope)?;
            wave.push(create(
                &clients,
                req.prefix,
                id,
                decl,
                props,
                pseudo.account_id.clone(),
            ));
        }
        let created = futures::future::try_join_all(wave).await?;
        for (id, physical) in ready.into_iter().zip(created) {
            pending.remove(id);
            if pseudo.account_id.is_none() {
                pseudo.account_id = account_of(&physical.arn);
            }
            resources.insert(id.clone(), physical);
        }
    }

    let scope = Scope {
        pseudo: &pseudo,
        parameters: &parameters,
        conditions: &conditions,
        mappings: &template.mappings,
        resources: &resources,
        declared: &template.resources,
    };
    let functions = template
        .resources
        .iter()
        .filter(|(_, decl)| decl.kind == functions::KIND && active(decl));
    let wiring = functions::wire(&template, functions, &scope)?;
    Ok(Provisioned {
        function_env: wiring.env,
        sqs_bindings: wiring.sqs,
        schedules: wiring.schedules,
        http_routes: wiring.routes,
        resources,
        function_binaries: wiring.binaries,
        function_timeouts: wiring
            .timeouts
            .into_iter()
            .map(|(id, s)| (id, std::time::Duration::from_secs(s)))
            .collect(),
        secret_parameters: secret_arns,
    })
}

/// The properties reproduced locally for a resource type; `None` for types not created locally.
fn applied_properties(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        dynamodb::KIND => Some(dynamodb::APPLIED),
        sqs::KIND => Some(sqs::APPLIED),
        s3::KIND => Some(s3::APPLIED),
        kms::KEY_KIND => Some(kms::KEY_APPLIED),
        kms::ALIAS_KIND => Some(kms::ALIAS_APPLIED),
        secrets::KIND => Some(secrets::APPLIED),
        _ => None,
    }
}

/// Resources this one must wait for: those its applied properties refer to, and `DependsOn`.
fn dependencies<'t>(
    decl: &ResourceDecl,
    creatable: &BTreeMap<&'t String, &'t ResourceDecl>,
) -> BTreeSet<&'t String> {
    let applied = applied_properties(&decl.kind).unwrap_or_default();
    let mut names: BTreeSet<String> = decl
        .properties
        .iter()
        .filter(|(key, _)| applied.contains(&key.as_str()))
        .flat_map(|(_, value)| references(value))
        .collect();
    names.extend(decl.depends_on.iter().cloned());
    creatable
        .keys()
        .filter(|id| names.contains(id.as_str()))
        .copied()
        .collect()
}

fn evaluated_properties(
    id: &str,
    decl: &ResourceDecl,
    scope: &Scope<'_>,
) -> anyhow::Result<Map<String, Value>> {
    let applied = applied_properties(&decl.kind).unwrap_or_default();
    let mut out = Map::new();
    let mut ignored = Vec::new();
    for (key, value) in &decl.properties {
        if !applied.contains(&key.as_str()) {
            ignored.push(key.as_str());
            continue;
        }
        if let Some(value) = evaluate(value, scope).with_context(|| format!("{id}.{key}"))? {
            out.insert(key.clone(), value);
        }
    }
    if !ignored.is_empty() {
        tracing::debug!(resource = %id, properties = ?ignored, "properties not applied locally");
    }
    Ok(out)
}

async fn create(
    clients: &Clients,
    prefix: &str,
    id: &str,
    decl: &ResourceDecl,
    props: Map<String, Value>,
    account_id: Option<String>,
) -> anyhow::Result<PhysicalResource> {
    let created = match decl.kind.as_str() {
        dynamodb::KIND => {
            let name = naming::physical_name(prefix, id, "", 255);
            dynamodb::ensure_table(&clients.dynamodb, &name, &props).await
        }
        sqs::KIND => {
            let suffix = if sqs::is_fifo(&props)? { ".fifo" } else { "" };
            let name = naming::physical_name(prefix, id, suffix, 80);
            sqs::ensure_queue(&clients.sqs, &name, &props).await
        }
        s3::KIND => {
            let name = naming::physical_name(prefix, id, "", 63);
            s3::ensure_bucket(&clients.s3, &clients.region, &name, &props).await
        }
        kms::KEY_KIND => {
            let name = naming::physical_name(prefix, id, "", 250);
            kms::ensure_key(&clients.kms, &name, &props).await
        }
        kms::ALIAS_KIND => {
            kms::ensure_alias(
                &clients.kms,
                id,
                &props,
                &clients.region,
                account_id.as_deref(),
            )
            .await
        }
        secrets::KIND => {
            let name = naming::physical_name(prefix, id, "", 512);
            secrets::ensure_template_secret(&clients.secrets, &name, &props).await
        }
        other => anyhow::bail!("{id}: {other} is not created locally"),
    };
    created.with_context(|| format!("provisioning {id} ({})", decl.kind))
}

async fn create_secrets(
    clients: &Clients,
    template: &Template,
    req: &ProvisionRequest<'_>,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut work = Vec::new();
    for (param, value) in &req.secret_params {
        anyhow::ensure!(
            template.parameters.contains_key(param),
            "secret parameter {param} is not a parameter of {}",
            req.template_path.display()
        );
        anyhow::ensure!(
            !req.parameter_overrides.contains_key(param),
            "parameter {param} is given both as a secret and as a plain value"
        );
        let name = format!("{}/{param}", req.prefix);
        work.push(async move {
            let arn = secrets::ensure_secret(&clients.secrets, &name, value).await?;
            anyhow::Ok((param.clone(), arn))
        });
    }
    Ok(futures::future::try_join_all(work)
        .await?
        .into_iter()
        .collect())
}

/// Every parameter's value: a secret's ARN, an override, or the default. Lists become arrays.
fn parameter_values(
    declared: &BTreeMap<String, ParameterDecl>,
    overrides: &BTreeMap<String, String>,
    secret_arns: &BTreeMap<String, String>,
) -> anyhow::Result<BTreeMap<String, Value>> {
    if let Some(unknown) = overrides.keys().find(|name| !declared.contains_key(*name)) {
        anyhow::bail!("parameter override {unknown} is not a parameter of the template");
    }
    let mut values = BTreeMap::new();
    for (name, decl) in declared {
        let value = secret_arns
            .get(name)
            .or_else(|| overrides.get(name))
            .cloned()
            .or_else(|| decl.default.clone())
            .with_context(|| format!("parameter {name} has no default and no value was given"))?;
        check_parameter(name, decl, &value)?;
        let value = if decl.is_list() {
            Value::Array(
                value
                    .split(',')
                    .map(|s| Value::String(s.trim().to_owned()))
                    .collect(),
            )
        } else {
            Value::String(value)
        };
        values.insert(name.clone(), value);
    }
    Ok(values)
}

/// The constraints CloudFormation checks before creating anything. Values are left out of
/// the errors: a parameter may be `NoEcho`.
fn check_parameter(name: &str, decl: &ParameterDecl, value: &str) -> anyhow::Result<()> {
    if let Some(allowed) = &decl.allowed_values {
        anyhow::ensure!(
            allowed.iter().any(|a| a == value),
            "parameter {name} must be one of {}",
            allowed.join(", ")
        );
    }
    if decl.kind == "Number" {
        let n: f64 = value
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("parameter {name} must be a number"))?;
        anyhow::ensure!(
            decl.min_value.is_none_or(|min| n >= min),
            "parameter {name} is below its MinValue"
        );
        anyhow::ensure!(
            decl.max_value.is_none_or(|max| n <= max),
            "parameter {name} is above its MaxValue"
        );
    }
    Ok(())
}

/// The account id field of an ARN (`arn:partition:service:region:account:...`).
fn account_of(arn: &str) -> Option<String> {
    arn.split(':')
        .nth(4)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl(kind: &str, default: Option<&str>) -> ParameterDecl {
        ParameterDecl {
            kind: kind.into(),
            default: default.map(str::to_owned),
            allowed_values: None,
            min_value: None,
            max_value: None,
        }
    }

    #[test]
    fn parameters_take_secret_then_override_then_default() {
        let declared = BTreeMap::from([
            ("Secret".to_owned(), decl("String", None)),
            ("Version".to_owned(), decl("String", Some("v23.0"))),
            ("Level".to_owned(), decl("String", Some("info"))),
            ("Zones".to_owned(), decl("CommaDelimitedList", Some("a, b"))),
        ]);
        let values = parameter_values(
            &declared,
            &BTreeMap::from([("Level".to_owned(), "debug".to_owned())]),
            &BTreeMap::from([("Secret".to_owned(), "arn:aws:secretsmanager:x".to_owned())]),
        )
        .unwrap();
        assert_eq!(values["Secret"], Value::from("arn:aws:secretsmanager:x"));
        assert_eq!(values["Version"], Value::from("v23.0"));
        assert_eq!(values["Level"], Value::from("debug"));
        assert_eq!(values["Zones"], serde_json::json!(["a", "b"]));
    }

    #[test]
    fn parameters_without_value_or_with_unknown_names_are_rejected() {
        let declared = BTreeMap::from([("Secret".to_owned(), decl("String", None))]);
        let missing = parameter_values(&declared, &BTreeMap::new(), &BTreeMap::new()).unwrap_err();
        assert!(missing.to_string().contains("Secret"), "{missing}");
        let unknown = parameter_values(
            &declared,
            &BTreeMap::from([("Typo".to_owned(), "x".to_owned())]),
            &BTreeMap::from([("Secret".to_owned(), "arn".to_owned())]),
        )
        .unwrap_err();
        assert!(unknown.to_string().contains("Typo"), "{unknown}");
    }

    #[test]
    fn parameter_constraints_are_enforced() {
        let mut number = decl("Number", Some("5"));
        number.min_value = Some(0.0);
        number.max_value = Some(900.0);
        assert!(check_parameter("Retry", &number, "0.5").is_ok());
        assert!(check_parameter("Retry", &number, "-1").is_err());
        assert!(check_parameter("Retry", &number, "soon").is_err());
        let mut choice = decl("String", Some("Enabled"));
        choice.allowed_values = Some(vec!["Enabled".into(), "Disabled".into()]);
        assert!(check_parameter("Logs", &choice, "Disabled").is_ok());
        assert!(check_parameter("Logs", &choice, "maybe").is_err());
    }

    #[test]
    fn account_is_read_from_arns() {
        assert_eq!(
            account_of("arn:aws:sqs:us-east-1:123456789012:q").as_deref(),
            Some("123456789012")
        );
        assert_eq!(account_of("arn:aws:s3:::bucket"), None);
    }
}
