//! IAM, proven by the tests. The end-to-end suite records every AWS call each function makes
//! ([`crate::aws_calls`]); here those calls are checked against the function's `Policies` in
//! template.yaml, expanded as SAM expands them. Both directions fail: a call the role would
//! not allow, and a granted action no recorded call used (least privilege, kept so).
//!
//! Resources are compared by logical id: a recorded call to table `e2e-xyz-Table-…` is a call
//! to `Table`, a policy resource `!GetAtt Table.Arn` names `Table`, and
//! `!Sub "${DataBucket.Arn}/quarantine/*"` names `DataBucket/quarantine/*`.

use crate::aws_calls::{AwsCall, Need};
use crate::provision::Provisioned;
use crate::provision::template::{ResourceDecl, Template};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

const FUNCTION: &str = "AWS::Serverless::Function";

/// One statement a function's role allows, resources and conditions in logical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub function: String,
    /// Where it comes from, e.g. `DynamoDBCrudPolicy` or the statement's `Sid`.
    pub origin: String,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    /// `ForAllValues:StringLike` on `dynamodb:LeadingKeys`.
    pub leading_keys: Option<Vec<String>>,
    /// `StringLike` on `s3:prefix`.
    pub s3_prefix: Option<Vec<String>>,
    /// `kms:ViaService`: used by that AWS service on the function's behalf, never by its code.
    pub via_service: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The role does not allow a call the code made.
    Denied { function: String, need: Need },
    /// The role allows an action on a resource that no recorded call used.
    Unused {
        function: String,
        origin: String,
        action: String,
        resource: String,
    },
    /// A policy the check cannot expand: it cannot be proven.
    Unsupported { function: String, policy: String },
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Denied { function, need } => write!(
                f,
                "DENIED  {function} calls {} on {}{} but its policies do not allow it",
                need.action,
                need.resource,
                if need.partition_keys.is_empty() {
                    String::new()
                } else {
                    format!(" (partition keys {:?})", need.partition_keys)
                }
            ),
            Finding::Unused {
                function,
                origin,
                action,
                resource,
            } => write!(
                f,
                "UNUSED  {function} is granted {action} on {resource} ({origin}) but no code used it"
            ),
            Finding::Unsupported { function, policy } => {
                write!(f, "UNKNOWN {function}: cannot expand policy {policy}")
            }
        }
    }
}

/// Every function's grants, from the template.
pub fn grants(template: &Template) -> (Vec<Grant>, Vec<Finding>) {
    let mut grants = Vec::new();
    let mut findings = Vec::new();
    for (id, decl) in template
        .resources
        .iter()
        .filter(|(_, d)| d.kind == FUNCTION)
    {
        for policy in policies(decl) {
            match expand(id, policy) {
                Some(mut g) => grants.append(&mut g),
                None => findings.push(Finding::Unsupported {
                    function: id.clone(),
                    policy: policy.to_string(),
                }),
            }
        }
    }
    (grants, findings)
}

fn policies(decl: &ResourceDecl) -> Vec<&Value> {
    match decl.properties.get("Policies") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(single) => vec![single],
        None => Vec::new(),
    }
}

/// SAM's policy templates this template uses, as SAM defines them, and inline statements.
fn expand(function: &str, policy: &Value) -> Option<Vec<Grant>> {
    let object = policy.as_object()?;
    let (name, args) = object.iter().next()?;
    let grant = |actions: &[&str], resources: Vec<String>| Grant {
        function: function.to_owned(),
        origin: name.clone(),
        actions: actions.iter().map(|a| (*a).to_owned()).collect(),
        resources,
        leading_keys: None,
        s3_prefix: None,
        via_service: None,
    };
    let arg = |key: &str| args.get(key).and_then(logical);
    Some(match name.as_str() {
        "DynamoDBCrudPolicy" => {
            let t = arg("TableName")?;
            vec![grant(
                &[
                    "dynamodb:GetItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:PutItem",
                    "dynamodb:Scan",
                    "dynamodb:Query",
                    "dynamodb:UpdateItem",
                    "dynamodb:BatchWriteItem",
                    "dynamodb:BatchGetItem",
                    "dynamodb:DescribeTable",
                    "dynamodb:ConditionCheckItem",
                ],
                vec![t.clone(), format!("{t}/index/*")],
            )]
        }
        "DynamoDBReadPolicy" => {
            let t = arg("TableName")?;
            vec![grant(
                &[
                    "dynamodb:GetItem",
                    "dynamodb:Scan",
                    "dynamodb:Query",
                    "dynamodb:BatchGetItem",
                    "dynamodb:DescribeTable",
                ],
                vec![t.clone(), format!("{t}/index/*")],
            )]
        }
        "SQSSendMessagePolicy" => vec![grant(&["sqs:SendMessage*"], vec![arg("QueueName")?])],
        "SQSPollerPolicy" => vec![grant(
            &[
                "sqs:ChangeMessageVisibility",
                "sqs:ChangeMessageVisibilityBatch",
                "sqs:DeleteMessage",
                "sqs:DeleteMessageBatch",
                "sqs:GetQueueAttributes",
                "sqs:ReceiveMessage",
            ],
            vec![arg("QueueName")?],
        )],
        "AWSSecretsManagerGetSecretValuePolicy" => vec![grant(
            &["secretsmanager:GetSecretValue"],
            vec![arg("SecretArn")?],
        )],
        "Statement" => {
            let statements = match args {
                Value::Array(list) => list.iter().collect::<Vec<_>>(),
                single => vec![single],
            };
            statements
                .into_iter()
                .map(|st| statement(function, st))
                .collect::<Option<Vec<_>>>()?
        }
        _ => return None,
    })
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    match v? {
        Value::Array(list) => list.iter().map(logical).collect(),
        single => Some(vec![logical(single)?]),
    }
}

fn statement(function: &str, st: &Value) -> Option<Grant> {
    if st.get("Effect").and_then(Value::as_str) != Some("Allow") {
        return None;
    }
    let condition = st.get("Condition");
    let at = |op: &str, key: &str| condition.and_then(|c| c.get(op)).and_then(|c| c.get(key));
    Some(Grant {
        function: function.to_owned(),
        origin: st
            .get("Sid")
            .and_then(Value::as_str)
            .unwrap_or("Statement")
            .to_owned(),
        actions: strings(st.get("Action"))?,
        resources: strings(st.get("Resource"))?,
        leading_keys: strings(at("ForAllValues:StringLike", "dynamodb:LeadingKeys")),
        s3_prefix: strings(at("StringLike", "s3:prefix")),
        via_service: at("StringEquals", "kms:ViaService")
            .and_then(logical)
            .map(|s| s.split('.').next().unwrap_or_default().to_owned()),
    })
}

/// A policy value in logical form: `!Ref X` and `!GetAtt X.Attr` are `X`; `!Sub` replaces
/// `${X}` and `${X.Attr}` by `X` and leaves the rest (pseudo parameters such as
/// `${AWS::Region}` stay as written).
fn logical(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) if o.len() == 1 => {
            let (k, v) = o.iter().next()?;
            match (k.as_str(), v) {
                ("Ref", Value::String(x)) => Some(x.clone()),
                ("Fn::GetAtt", Value::Array(parts)) => parts.first()?.as_str().map(str::to_owned),
                ("Fn::GetAtt", Value::String(s)) => s.split('.').next().map(str::to_owned),
                ("Fn::Sub", Value::String(s)) => Some(substitute(s)),
                ("Fn::Sub", Value::Array(parts)) => parts.first()?.as_str().map(substitute),
                _ => None,
            }
        }
        _ => None,
    }
}

fn substitute(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let var = &rest[start + 2..start + end];
        if var.starts_with("AWS::") {
            out.push_str(&rest[start..start + end + 1]);
        } else {
            out.push_str(var.split('.').next().unwrap_or(var));
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// `*` matches any run of characters, as IAM's `StringLike` and resource ARNs do.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            pi += 1;
            mark = ti;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

fn allows(grant: &Grant, need: &Need, prefix: Option<&str>) -> Option<(String, String)> {
    if grant.via_service.is_some() {
        return None;
    }
    let action = grant.actions.iter().find(|a| glob(a, &need.action))?;
    let resource = grant.resources.iter().find(|r| glob(r, &need.resource))?;
    if let Some(keys) = &grant.leading_keys
        && !need
            .partition_keys
            .iter()
            .all(|k| keys.iter().any(|pattern| glob(pattern, k)))
    {
        return None;
    }
    if let Some(prefixes) = &grant.s3_prefix {
        let p = prefix?;
        if !prefixes.iter().any(|pattern| glob(pattern, p)) {
            return None;
        }
    }
    Some((action.clone(), resource.clone()))
}

/// Checks the calls against the grants; no finding means proven.
pub fn check(grants: &[Grant], calls: &[AwsCall]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut used: BTreeSet<(String, String, String, String)> = BTreeSet::new();
    let mut services: BTreeSet<(String, String)> = BTreeSet::new();
    for call in calls {
        if let Some((service, _)) = call.action.split_once(':') {
            services.insert((call.function.clone(), service.to_owned()));
        }
        for need in &call.needs {
            let mut allowed = false;
            for g in grants.iter().filter(|g| g.function == call.function) {
                if let Some((action, resource)) = allows(g, need, call.prefix.as_deref()) {
                    allowed = true;
                    used.insert((g.function.clone(), g.origin.clone(), action, resource));
                }
            }
            if !allowed {
                let denied = Finding::Denied {
                    function: call.function.clone(),
                    need: need.clone(),
                };
                if !findings.contains(&denied) {
                    findings.push(denied);
                }
            }
        }
    }
    for g in grants {
        if let Some(service) = &g.via_service {
            // Used by the service for the function when the function uses the service.
            if services.contains(&(g.function.clone(), service.clone())) {
                continue;
            }
        }
        for action in &g.actions {
            for resource in &g.resources {
                let key = (
                    g.function.clone(),
                    g.origin.clone(),
                    action.clone(),
                    resource.clone(),
                );
                if !used.contains(&key) {
                    findings.push(Finding::Unused {
                        function: g.function.clone(),
                        origin: g.origin.clone(),
                        action: action.clone(),
                        resource: resource.clone(),
                    });
                }
            }
        }
    }
    findings
}

/// The calls with every physical resource replaced by its logical id (see the module docs).
pub fn logical_calls(calls: &[AwsCall], provisioned: &Provisioned) -> Vec<AwsCall> {
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for (id, r) in &provisioned.resources {
        for physical in [&r.name, &r.arn, &r.reference]
            .into_iter()
            .chain(r.url.as_ref())
        {
            if !physical.is_empty() {
                names.insert(physical.clone(), id.clone());
            }
        }
    }
    for (param, arn) in &provisioned.secret_parameters {
        names.insert(arn.clone(), param.clone());
    }
    let to_logical = |resource: &str| -> String {
        if let Some(id) = names.get(resource) {
            return id.clone();
        }
        // `table/index/name` and `bucket/key`.
        if let Some((head, tail)) = resource.split_once('/')
            && let Some(id) = names.get(head)
        {
            return format!("{id}/{tail}");
        }
        format!("?{resource}")
    };
    calls
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c.resources = c.resources.iter().map(|r| to_logical(r)).collect();
            for n in &mut c.needs {
                n.resource = to_logical(&n.resource);
            }
            c
        })
        .collect()
}

/// Reads every `*.jsonl` call log in `dir`.
pub fn read_call_logs(dir: &Path) -> anyhow::Result<Vec<AwsCall>> {
    let mut calls = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("jsonl") {
            continue;
        }
        for line in std::fs::read_to_string(&path)?.lines() {
            if !line.trim().is_empty() {
                calls.push(serde_json::from_str(line)?);
            }
        }
    }
    Ok(calls)
}

/// The whole check, as `switchboard-dev iam-check` runs it after the end-to-end suite.
pub fn check_template(template_path: &Path, calls_dir: &Path) -> anyhow::Result<Vec<Finding>> {
    let template = Template::load(template_path)?;
    let calls = read_call_logs(calls_dir)?;
    anyhow::ensure!(
        !calls.is_empty(),
        "no AWS calls recorded in {}: run the end-to-end suite first",
        calls_dir.display()
    );
    let (grants, mut findings) = grants(&template);
    findings.extend(check(&grants, &calls));
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
Resources:
  Table: { Type: AWS::DynamoDB::Table }
  Queue: { Type: AWS::SQS::Queue }
  Bucket: { Type: AWS::S3::Bucket }
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - SQSSendMessagePolicy:
            QueueName: !GetAtt Queue.QueueName
        - Statement:
            - Sid: OwnItems
              Effect: Allow
              Action: [dynamodb:PutItem]
              Resource: !GetAtt Table.Arn
              Condition:
                ForAllValues:StringLike:
                  dynamodb:LeadingKeys: ["WHEVT#*"]
            - Sid: Quarantine
              Effect: Allow
              Action: s3:PutObject
              Resource: !Sub "${Bucket.Arn}/quarantine/*"
"#;

    fn call(action: &str, resource: &str, pk: Option<&str>) -> AwsCall {
        AwsCall {
            function: "Fn".into(),
            action: action.into(),
            operation: String::new(),
            resources: vec![resource.into()],
            partition_keys: pk.into_iter().map(Into::into).collect(),
            prefix: None,
            needs: vec![Need {
                action: action.into(),
                resource: resource.into(),
                partition_keys: pk.into_iter().map(Into::into).collect(),
            }],
            capacity: None,
        }
    }

    #[test]
    fn every_call_allowed_and_every_grant_used_is_proven() {
        let template = Template::parse(TEMPLATE).expect("template");
        let (grants, unsupported) = grants(&template);
        assert!(unsupported.is_empty(), "{unsupported:?}");
        let calls = [
            call("sqs:SendMessage", "Queue", None),
            call("dynamodb:PutItem", "Table", Some("WHEVT#1#a")),
            call("s3:PutObject", "Bucket/quarantine/2026/x.json", None),
        ];
        assert_eq!(check(&grants, &calls), vec![]);
    }

    #[test]
    fn a_call_outside_the_grants_and_a_grant_never_used_both_fail() {
        let template = Template::parse(TEMPLATE).expect("template");
        let (grants, _) = grants(&template);
        let calls = [
            call("sqs:SendMessage", "Queue", None),
            // Another tenant's item: outside the leading keys.
            call("dynamodb:PutItem", "Table", Some("T#acme#M")),
            call("s3:GetObject", "Bucket/quarantine/x", None),
        ];
        let findings = check(&grants, &calls);
        let text: Vec<String> = findings.iter().map(ToString::to_string).collect();
        assert!(
            text.iter()
                .any(|f| f.starts_with("DENIED  Fn calls dynamodb:PutItem on Table")),
            "{text:#?}"
        );
        assert!(
            text.iter()
                .any(|f| f.starts_with("DENIED  Fn calls s3:GetObject")),
            "{text:#?}"
        );
        assert!(
            text.iter()
                .any(|f| f.starts_with("UNUSED  Fn is granted s3:PutObject on Bucket/quarantine/*")),
            "{text:#?}"
        );
        assert_eq!(findings.len(), 4, "{text:#?}");
    }

    #[test]
    fn globs_match_as_iam_does() {
        assert!(glob("sqs:SendMessage*", "sqs:SendMessage"));
        assert!(glob("Table/index/*", "Table/index/gsi1"));
        assert!(!glob("Table/index/*", "Table"));
        assert!(glob("WHEVT#*", "WHEVT#1#x"));
        assert!(!glob("WHEVT#*", "T#acme"));
        assert_eq!(
            substitute("${DataBucket.Arn}/quarantine/*"),
            "DataBucket/quarantine/*"
        );
        assert_eq!(
            substitute("s3.${AWS::Region}.amazonaws.com"),
            "s3.${AWS::Region}.amazonaws.com"
        );
    }
}
