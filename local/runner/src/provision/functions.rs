//! What the template says about each `AWS::Serverless::Function`: its environment (Globals
//! merged with its own), the binary it is built from, and its SQS, schedule and HTTP events.

use super::intrinsics::{IntrinsicError, Scope, evaluate};
use super::props::{flag, number, text, texts};
use super::template::{ResourceDecl, Template};
use super::{HttpRoute, ScheduleBinding, SqsBinding, sqs};
use anyhow::Context;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub const KIND: &str = "AWS::Serverless::Function";

#[derive(Debug, Default)]
pub struct Wiring {
    pub env: BTreeMap<String, BTreeMap<String, String>>,
    pub binaries: BTreeMap<String, String>,
    /// `Timeout` in seconds, the function's own or the Globals'.
    pub timeouts: BTreeMap<String, u64>,
    pub sqs: Vec<SqsBinding>,
    pub schedules: Vec<ScheduleBinding>,
    pub routes: Vec<HttpRoute>,
}

pub fn wire<'t>(
    template: &Template,
    functions: impl IntoIterator<Item = (&'t String, &'t ResourceDecl)>,
    scope: &Scope<'_>,
) -> anyhow::Result<Wiring> {
    let mut wiring = Wiring::default();
    for (id, decl) in functions {
        wiring
            .env
            .insert(id.clone(), environment(template, id, decl, scope)?);
        if let Some(seconds) = decl
            .properties
            .get("Timeout")
            .or_else(|| template.function_globals.get("Timeout"))
            .and_then(Value::as_u64)
        {
            wiring.timeouts.insert(id.clone(), seconds);
        }
        if let Some(binary) = decl
            .metadata
            .get("BuildProperties")
            .and_then(|p| p.get("Binary"))
            .and_then(Value::as_str)
        {
            wiring.binaries.insert(id.clone(), binary.to_owned());
        }
        let events = match decl.properties.get("Events") {
            None | Some(Value::Null) => continue,
            Some(Value::Object(events)) => events,
            Some(_) => anyhow::bail!("{id}.Events is not a mapping"),
        };
        for (event, spec) in events {
            let at = format!("{id}.Events.{event}");
            let kind = spec
                .get("Type")
                .and_then(Value::as_str)
                .with_context(|| format!("{at} has no Type"))?;
            let empty = Map::new();
            let raw = match spec.get("Properties") {
                None | Some(Value::Null) => &empty,
                Some(Value::Object(p)) => p,
                Some(_) => anyhow::bail!("{at}.Properties is not a mapping"),
            };
            match kind {
                "SQS" => {
                    let props = evaluate_keys(
                        raw,
                        &[
                            "Queue",
                            "BatchSize",
                            "Enabled",
                            "FunctionResponseTypes",
                            "MaximumBatchingWindowInSeconds",
                        ],
                        scope,
                        &at,
                    )?;
                    if let Some(binding) = sqs_binding(id, event, &props, scope, &at)? {
                        wiring.sqs.push(binding);
                    }
                }
                "Schedule" | "ScheduleV2" => {
                    let props = evaluate_keys(
                        raw,
                        &[
                            "Schedule",
                            "ScheduleExpression",
                            "Enabled",
                            "State",
                            "Input",
                        ],
                        scope,
                        &at,
                    )?;
                    if let Some(binding) = schedule_binding(id, event, &props, &at)? {
                        wiring.schedules.push(binding);
                    }
                }
                "HttpApi" | "Api" => {
                    let props = evaluate_keys(raw, &["Method", "Path"], scope, &at)?;
                    wiring.routes.push(HttpRoute {
                        function: id.clone(),
                        event: event.clone(),
                        method: text(&props, "Method", &at)?
                            .unwrap_or_else(|| "ANY".into())
                            .to_ascii_uppercase(),
                        path: text(&props, "Path", &at)?.unwrap_or_else(|| "$default".into()),
                    });
                }
                other => {
                    tracing::debug!(function = %id, %event, kind = other, "event source not run locally")
                }
            }
        }
    }
    Ok(wiring)
}

/// `Globals.Function.Environment.Variables` overlaid with the function's own, every value
/// resolved to a string; anything unresolvable is an error naming the variable.
fn environment(
    template: &Template,
    id: &str,
    decl: &ResourceDecl,
    scope: &Scope<'_>,
) -> anyhow::Result<BTreeMap<String, String>> {
    let variables = |properties: &Map<String, Value>| -> Map<String, Value> {
        properties
            .get("Environment")
            .and_then(|e| e.get("Variables"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let mut merged = variables(&template.function_globals);
    merged.extend(variables(&decl.properties));
    let mut env = BTreeMap::new();
    for (name, expression) in merged {
        let value = evaluate(&expression, scope).map_err(|e| unresolvable(id, &name, e))?;
        let value = match value {
            None => continue,
            Some(Value::String(s)) => s,
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Bool(b)) => b.to_string(),
            Some(other) => {
                anyhow::bail!("environment variable {name} of {id} is not a string: {other}")
            }
        };
        env.insert(name, value);
    }
    Ok(env)
}

fn unresolvable(function: &str, variable: &str, e: IntrinsicError) -> anyhow::Error {
    anyhow::anyhow!("environment variable {variable} of {function} cannot be resolved locally: {e}")
}

fn evaluate_keys(
    raw: &Map<String, Value>,
    keys: &[&str],
    scope: &Scope<'_>,
    at: &str,
) -> anyhow::Result<Map<String, Value>> {
    let mut out = Map::new();
    for key in keys {
        if let Some(expression) = raw.get(*key)
            && let Some(value) =
                evaluate(expression, scope).with_context(|| format!("{at}.{key}"))?
        {
            out.insert((*key).to_owned(), value);
        }
    }
    Ok(out)
}

fn sqs_binding(
    function: &str,
    event: &str,
    props: &Map<String, Value>,
    scope: &Scope<'_>,
    at: &str,
) -> anyhow::Result<Option<SqsBinding>> {
    if flag(props, "Enabled", at)? == Some(false) {
        tracing::debug!(%function, %event, "SQS event source disabled in the template");
        return Ok(None);
    }
    let queue_arn = text(props, "Queue", at)?.with_context(|| format!("{at}.Queue is required"))?;
    let (queue, physical) = scope
        .resources
        .iter()
        .find(|(_, r)| r.kind == sqs::KIND && r.arn == queue_arn)
        .with_context(|| format!("{at}: queue {queue_arn} is not one of the template's queues"))?;
    let queue_url = physical
        .url
        .clone()
        .with_context(|| format!("{at}: queue {queue} has no URL"))?;
    let batch_size = number(props, "BatchSize", at)?.unwrap_or(10);
    let window = number(props, "MaximumBatchingWindowInSeconds", at)?.unwrap_or(0);
    Ok(Some(SqsBinding {
        function: function.to_owned(),
        event: event.to_owned(),
        queue: queue.clone(),
        queue_url,
        queue_arn,
        batch_size: i32::try_from(batch_size)
            .with_context(|| format!("{at}.BatchSize is out of range"))?,
        maximum_batching_window_seconds: i32::try_from(window)
            .with_context(|| format!("{at}.MaximumBatchingWindowInSeconds is out of range"))?,
        fifo: physical.name.ends_with(".fifo"),
        report_batch_item_failures: texts(props, "FunctionResponseTypes", at)?
            .iter()
            .any(|t| t == "ReportBatchItemFailures"),
    }))
}

fn schedule_binding(
    function: &str,
    event: &str,
    props: &Map<String, Value>,
    at: &str,
) -> anyhow::Result<Option<ScheduleBinding>> {
    let disabled = flag(props, "Enabled", at)? == Some(false)
        || text(props, "State", at)?.is_some_and(|s| s.eq_ignore_ascii_case("DISABLED"));
    if disabled {
        tracing::debug!(%function, %event, "schedule disabled in the template");
        return Ok(None);
    }
    let expression = match text(props, "Schedule", at)? {
        Some(e) => e,
        None => text(props, "ScheduleExpression", at)?
            .with_context(|| format!("{at} has no schedule expression"))?,
    };
    Ok(Some(ScheduleBinding {
        function: function.to_owned(),
        event: event.to_owned(),
        expression,
        input: text(props, "Input", at)?,
    }))
}
