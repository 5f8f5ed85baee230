//! Evaluates CloudFormation intrinsic functions (long form) against what exists locally:
//! parameter values, pseudo parameters, conditions, mappings and the physical resources
//! created so far.

use super::PhysicalResource;
use super::template::ResourceDecl;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IntrinsicError {
    #[error("{reference}: no parameter or resource named {name}")]
    UnknownName { reference: String, name: String },
    #[error("{reference}: resource {resource} ({kind}) is not created locally")]
    NotCreated {
        reference: String,
        resource: String,
        kind: String,
    },
    #[error("!GetAtt {resource}.{attribute}: the local resource has no such attribute")]
    UnknownAttribute { resource: String, attribute: String },
    #[error("{0} is not supported locally")]
    Unsupported(String),
    #[error("condition {0} is not defined")]
    UnknownCondition(String),
    #[error("condition {0} depends on itself")]
    ConditionCycle(String),
    #[error("{function}: {reason}")]
    Malformed { function: String, reason: String },
    #[error("AWS::AccountId is not known before the first resource exists")]
    AccountUnknown,
}

fn malformed(function: &str, reason: impl Into<String>) -> IntrinsicError {
    IntrinsicError::Malformed {
        function: function.to_owned(),
        reason: reason.into(),
    }
}

/// Values of the pseudo parameters (`AWS::Region`, ...). The stack name is the local prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pseudo {
    pub region: String,
    pub stack_name: String,
    /// Learnt from the first ARN the emulator hands out.
    pub account_id: Option<String>,
}

#[derive(Clone, Copy)]
pub struct Scope<'a> {
    pub pseudo: &'a Pseudo,
    /// Resolved parameter values: a string, or an array of strings for list types.
    pub parameters: &'a BTreeMap<String, Value>,
    pub conditions: &'a BTreeMap<String, bool>,
    pub mappings: &'a Map<String, Value>,
    pub resources: &'a BTreeMap<String, PhysicalResource>,
    /// Every resource the template declares, to tell "not created locally" from a typo.
    pub declared: &'a BTreeMap<String, ResourceDecl>,
}

/// The value an expression evaluates to; `None` is `AWS::NoValue` (the property is omitted).
pub fn evaluate(v: &Value, scope: &Scope<'_>) -> Result<Option<Value>, IntrinsicError> {
    match v {
        Value::Object(map) => {
            if let Some((name, arg)) = intrinsic(map) {
                return apply(name, arg, scope);
            }
            let mut out = Map::new();
            for (key, value) in map {
                if let Some(value) = evaluate(value, scope)? {
                    out.insert(key.clone(), value);
                }
            }
            Ok(Some(Value::Object(out)))
        }
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                if let Some(value) = evaluate(item, scope)? {
                    out.push(value);
                }
            }
            Ok(Some(Value::Array(out)))
        }
        scalar => Ok(Some(scalar.clone())),
    }
}

/// Like [`evaluate`], for places where a string is required.
pub fn evaluate_text(v: &Value, scope: &Scope<'_>, what: &str) -> Result<String, IntrinsicError> {
    match evaluate(v, scope)? {
        Some(value) => text(&value, what),
        None => Err(malformed(what, "is AWS::NoValue")),
    }
}

fn intrinsic(map: &Map<String, Value>) -> Option<(&str, &Value)> {
    let mut entries = map.iter();
    match (entries.next(), entries.next()) {
        (Some((name, arg)), None) if name == "Ref" || name.starts_with("Fn::") => {
            Some((name.as_str(), arg))
        }
        _ => None,
    }
}

fn text(v: &Value, what: &str) -> Result<String, IntrinsicError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(malformed(what, format!("expected a string, found {other}"))),
    }
}

fn apply(name: &str, arg: &Value, scope: &Scope<'_>) -> Result<Option<Value>, IntrinsicError> {
    match name {
        "Ref" => {
            let target = arg
                .as_str()
                .ok_or_else(|| malformed("Ref", "expects a name"))?;
            reference(target, &format!("!Ref {target}"), scope)
        }
        "Fn::GetAtt" => {
            let (resource, attribute) = getatt_parts(arg)?;
            get_att(&resource, &attribute, scope).map(|s| Some(Value::String(s)))
        }
        "Fn::Sub" => sub(arg, scope).map(|s| Some(Value::String(s))),
        "Fn::Join" => {
            let [delimiter, items] = pair(arg, "Fn::Join")?;
            let delimiter = text(delimiter, "Fn::Join delimiter")?;
            let items = list(items, scope, "Fn::Join")?;
            let parts = items
                .iter()
                .map(|item| text(item, "Fn::Join item"))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some(Value::String(parts.join(&delimiter))))
        }
        "Fn::Select" => {
            let [index, items] = pair(arg, "Fn::Select")?;
            let index = evaluate_text(index, scope, "Fn::Select index")?;
            let index: usize = index
                .parse()
                .map_err(|_| malformed("Fn::Select", format!("index {index} is not a number")))?;
            let items = list(items, scope, "Fn::Select")?;
            let len = items.len();
            items.into_iter().nth(index).map(Some).ok_or_else(|| {
                malformed(
                    "Fn::Select",
                    format!("index {index} is out of range for {len} items"),
                )
            })
        }
        "Fn::Split" => {
            let [delimiter, source] = pair(arg, "Fn::Split")?;
            let delimiter = text(delimiter, "Fn::Split delimiter")?;
            let source = evaluate_text(source, scope, "Fn::Split source")?;
            Ok(Some(Value::Array(
                source
                    .split(delimiter.as_str())
                    .map(|s| Value::String(s.to_owned()))
                    .collect(),
            )))
        }
        "Fn::If" => {
            let items = arg
                .as_array()
                .filter(|items| items.len() == 3)
                .ok_or_else(|| malformed("Fn::If", "expects [condition, then, else]"))?;
            let condition = items[0]
                .as_str()
                .ok_or_else(|| malformed("Fn::If", "condition must be a name"))?;
            let holds = *scope
                .conditions
                .get(condition)
                .ok_or_else(|| IntrinsicError::UnknownCondition(condition.to_owned()))?;
            evaluate(if holds { &items[1] } else { &items[2] }, scope)
        }
        "Fn::FindInMap" => {
            let items = arg
                .as_array()
                .filter(|items| items.len() == 3)
                .ok_or_else(|| {
                    malformed(
                        "Fn::FindInMap",
                        "expects [map, top-level key, second-level key]",
                    )
                })?;
            let keys = items
                .iter()
                .map(|item| evaluate_text(item, scope, "Fn::FindInMap key"))
                .collect::<Result<Vec<_>, _>>()?;
            scope
                .mappings
                .get(&keys[0])
                .and_then(|m| m.get(&keys[1]))
                .and_then(|m| m.get(&keys[2]))
                .cloned()
                .map(Some)
                .ok_or_else(|| {
                    malformed(
                        "Fn::FindInMap",
                        format!("no entry {}.{}.{}", keys[0], keys[1], keys[2]),
                    )
                })
        }
        "Fn::Equals" | "Fn::Not" | "Fn::And" | "Fn::Or" => {
            let mut memo = BTreeMap::new();
            let no_definitions = Map::new();
            let mut resolver = ConditionResolver {
                definitions: &no_definitions,
                scope,
                memo: &mut memo,
                visiting: BTreeSet::new(),
            };
            let expression = Value::Object(Map::from_iter([(name.to_owned(), arg.clone())]));
            resolver
                .expression(&expression)
                .map(|b| Some(Value::Bool(b)))
        }
        other => Err(IntrinsicError::Unsupported(other.to_owned())),
    }
}

fn pair<'v>(arg: &'v Value, function: &str) -> Result<[&'v Value; 2], IntrinsicError> {
    match arg.as_array().map(Vec::as_slice) {
        Some([a, b]) => Ok([a, b]),
        _ => Err(malformed(function, "expects two arguments")),
    }
}

fn list(v: &Value, scope: &Scope<'_>, function: &str) -> Result<Vec<Value>, IntrinsicError> {
    match evaluate(v, scope)? {
        Some(Value::Array(items)) => Ok(items),
        _ => Err(malformed(function, "expects a list")),
    }
}

fn getatt_parts(arg: &Value) -> Result<(String, String), IntrinsicError> {
    match arg.as_array().map(Vec::as_slice) {
        Some([Value::String(resource), Value::String(attribute)]) => {
            Ok((resource.clone(), attribute.clone()))
        }
        _ => match arg.as_str().and_then(|s| s.split_once('.')) {
            Some((resource, attribute)) => Ok((resource.to_owned(), attribute.to_owned())),
            None => Err(malformed("Fn::GetAtt", "expects [resource, attribute]")),
        },
    }
}

fn reference(
    name: &str,
    reference: &str,
    scope: &Scope<'_>,
) -> Result<Option<Value>, IntrinsicError> {
    let pseudo = scope.pseudo;
    let account = || {
        pseudo
            .account_id
            .clone()
            .ok_or(IntrinsicError::AccountUnknown)
    };
    let value = match name {
        "AWS::NoValue" => return Ok(None),
        "AWS::Region" => pseudo.region.clone(),
        "AWS::StackName" => pseudo.stack_name.clone(),
        "AWS::AccountId" => account()?,
        "AWS::Partition" => "aws".to_owned(),
        "AWS::URLSuffix" => "amazonaws.com".to_owned(),
        "AWS::StackId" => format!(
            "arn:aws:cloudformation:{}:{}:stack/{}/local",
            pseudo.region,
            account()?,
            pseudo.stack_name
        ),
        "AWS::NotificationARNs" => return Ok(Some(Value::Array(Vec::new()))),
        _ => {
            if let Some(value) = scope.parameters.get(name) {
                return Ok(Some(value.clone()));
            }
            if let Some(resource) = scope.resources.get(name) {
                return Ok(Some(Value::String(resource.reference.clone())));
            }
            return Err(missing(name, reference, scope));
        }
    };
    Ok(Some(Value::String(value)))
}

fn missing(name: &str, reference: &str, scope: &Scope<'_>) -> IntrinsicError {
    match scope.declared.get(name) {
        Some(decl) => IntrinsicError::NotCreated {
            reference: reference.to_owned(),
            resource: name.to_owned(),
            kind: decl.kind.clone(),
        },
        None => IntrinsicError::UnknownName {
            reference: reference.to_owned(),
            name: name.to_owned(),
        },
    }
}

fn get_att(resource: &str, attribute: &str, scope: &Scope<'_>) -> Result<String, IntrinsicError> {
    let physical = scope
        .resources
        .get(resource)
        .ok_or_else(|| missing(resource, &format!("!GetAtt {resource}.{attribute}"), scope))?;
    physical
        .attributes
        .get(attribute)
        .cloned()
        .ok_or_else(|| IntrinsicError::UnknownAttribute {
            resource: resource.to_owned(),
            attribute: attribute.to_owned(),
        })
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SubPiece<'t> {
    Literal(&'t str),
    /// `${!Name}` renders as `${Name}`.
    Escaped(&'t str),
    Variable(&'t str),
}

fn sub_pieces(template: &str) -> Result<Vec<SubPiece<'_>>, IntrinsicError> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        if start > 0 {
            pieces.push(SubPiece::Literal(&rest[..start]));
        }
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| malformed("Fn::Sub", format!("unclosed ${{ in {template:?}")))?;
        let name = after[..end].trim();
        pieces.push(match name.strip_prefix('!') {
            Some(literal) => SubPiece::Escaped(literal),
            None => SubPiece::Variable(name),
        });
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        pieces.push(SubPiece::Literal(rest));
    }
    Ok(pieces)
}

fn sub(arg: &Value, scope: &Scope<'_>) -> Result<String, IntrinsicError> {
    let (template, variables) = match arg {
        Value::String(s) => (s.as_str(), Map::new()),
        Value::Array(items) => match items.as_slice() {
            [Value::String(s), variables @ Value::Object(_)] => match evaluate(variables, scope)? {
                Some(Value::Object(m)) => (s.as_str(), m),
                _ => return Err(malformed("Fn::Sub", "variables must be a mapping")),
            },
            _ => {
                return Err(malformed(
                    "Fn::Sub",
                    "expects a string or [string, variables]",
                ));
            }
        },
        _ => {
            return Err(malformed(
                "Fn::Sub",
                "expects a string or [string, variables]",
            ));
        }
    };
    let mut out = String::with_capacity(template.len());
    for piece in sub_pieces(template)? {
        match piece {
            SubPiece::Literal(s) => out.push_str(s),
            SubPiece::Escaped(s) => {
                out.push_str("${");
                out.push_str(s);
                out.push('}');
            }
            SubPiece::Variable(name) => {
                let value = if let Some(v) = variables.get(name) {
                    text(v, &format!("!Sub ${{{name}}}"))?
                } else if let Some((resource, attribute)) = name.split_once('.') {
                    get_att(resource, attribute, scope)?
                } else {
                    match reference(name, &format!("!Sub ${{{name}}}"), scope)? {
                        Some(v) => text(&v, &format!("!Sub ${{{name}}}"))?,
                        None => {
                            return Err(malformed(
                                "Fn::Sub",
                                format!("${{{name}}} is AWS::NoValue"),
                            ));
                        }
                    }
                };
                out.push_str(&value);
            }
        }
    }
    Ok(out)
}

/// Names of the parameters and resources an expression refers to (`Ref`, `GetAtt`, `Sub`).
pub fn references(v: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    collect_references(v, &mut names);
    names
}

fn collect_references(v: &Value, names: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            match intrinsic(map) {
                Some(("Ref", Value::String(name))) => {
                    names.insert(name.clone());
                }
                Some(("Fn::GetAtt", arg)) => {
                    if let Ok((resource, _)) = getatt_parts(arg) {
                        names.insert(resource);
                    }
                }
                Some(("Fn::Sub", arg)) => {
                    let (template, variables) = match arg {
                        Value::String(s) => (Some(s.as_str()), None),
                        Value::Array(items) => (
                            items.first().and_then(Value::as_str),
                            items.get(1).and_then(Value::as_object),
                        ),
                        _ => (None, None),
                    };
                    for piece in template
                        .and_then(|t| sub_pieces(t).ok())
                        .unwrap_or_default()
                    {
                        if let SubPiece::Variable(name) = piece
                            && !variables.is_some_and(|vars| vars.contains_key(name))
                        {
                            let target =
                                name.split_once('.').map_or(name, |(resource, _)| resource);
                            names.insert(target.to_owned());
                        }
                    }
                }
                _ => {}
            }
            for value in map.values() {
                collect_references(value, names);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect_references(item, names)),
        _ => {}
    }
}

/// Evaluates every condition of the template; they may refer to parameters and each other.
pub fn resolve_conditions(
    definitions: &Map<String, Value>,
    scope: &Scope<'_>,
) -> Result<BTreeMap<String, bool>, IntrinsicError> {
    let mut memo = BTreeMap::new();
    for name in definitions.keys() {
        let mut resolver = ConditionResolver {
            definitions,
            scope,
            memo: &mut memo,
            visiting: BTreeSet::new(),
        };
        resolver.named(name)?;
    }
    Ok(memo)
}

struct ConditionResolver<'r, 's> {
    definitions: &'r Map<String, Value>,
    scope: &'r Scope<'s>,
    memo: &'r mut BTreeMap<String, bool>,
    visiting: BTreeSet<String>,
}

impl ConditionResolver<'_, '_> {
    fn named(&mut self, name: &str) -> Result<bool, IntrinsicError> {
        if let Some(known) = self
            .memo
            .get(name)
            .or_else(|| self.scope.conditions.get(name))
        {
            return Ok(*known);
        }
        let definition = self
            .definitions
            .get(name)
            .ok_or_else(|| IntrinsicError::UnknownCondition(name.to_owned()))?;
        if !self.visiting.insert(name.to_owned()) {
            return Err(IntrinsicError::ConditionCycle(name.to_owned()));
        }
        let holds = self.expression(definition)?;
        self.visiting.remove(name);
        self.memo.insert(name.to_owned(), holds);
        Ok(holds)
    }

    fn expression(&mut self, v: &Value) -> Result<bool, IntrinsicError> {
        let map = v.as_object().filter(|m| m.len() == 1).ok_or_else(|| {
            malformed(
                "condition",
                format!("expected a condition function, found {v}"),
            )
        })?;
        let (name, arg) = map
            .iter()
            .next()
            .ok_or_else(|| malformed("condition", "is empty"))?;
        let operands = || {
            arg.as_array()
                .ok_or_else(|| malformed(name, "expects a list"))
        };
        match name.as_str() {
            "Condition" => {
                let other = arg
                    .as_str()
                    .ok_or_else(|| malformed("Condition", "expects a name"))?;
                self.named(other)
            }
            "Fn::Equals" => {
                let [a, b] = pair(arg, "Fn::Equals")?;
                let a = evaluate(a, self.scope)?.unwrap_or(Value::Null);
                let b = evaluate(b, self.scope)?.unwrap_or(Value::Null);
                // CloudFormation compares the string forms: `5` equals `"5"`.
                Ok(text(&a, "Fn::Equals")
                    .ok()
                    .zip(text(&b, "Fn::Equals").ok())
                    .map_or(a == b, |(a, b)| a == b))
            }
            "Fn::Not" => match operands()?.as_slice() {
                [inner] => Ok(!self.expression(inner)?),
                _ => Err(malformed("Fn::Not", "expects one condition")),
            },
            "Fn::And" => {
                let mut all = true;
                for operand in operands()? {
                    all &= self.expression(operand)?;
                }
                Ok(all)
            }
            "Fn::Or" => {
                let mut any = false;
                for operand in operands()? {
                    any |= self.expression(operand)?;
                }
                Ok(any)
            }
            other => Err(malformed(
                "condition",
                format!("{other} is not a condition function"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Fixture {
        pseudo: Pseudo,
        parameters: BTreeMap<String, Value>,
        conditions: BTreeMap<String, bool>,
        mappings: Map<String, Value>,
        resources: BTreeMap<String, PhysicalResource>,
        declared: BTreeMap<String, ResourceDecl>,
    }

    impl Fixture {
        fn new() -> Self {
            let queue = PhysicalResource {
                kind: "AWS::SQS::Queue".into(),
                name: "p-queue.fifo".into(),
                arn: "arn:aws:sqs:us-east-1:123456789012:p-queue.fifo".into(),
                url: Some("http://127.0.0.1:4566/123456789012/p-queue.fifo".into()),
                reference: "http://127.0.0.1:4566/123456789012/p-queue.fifo".into(),
                attributes: BTreeMap::from([
                    (
                        "Arn".into(),
                        "arn:aws:sqs:us-east-1:123456789012:p-queue.fifo".into(),
                    ),
                    ("QueueName".into(), "p-queue.fifo".into()),
                ]),
            };
            let decl = |kind: &str| ResourceDecl {
                kind: kind.into(),
                condition: None,
                properties: Map::new(),
                metadata: Map::new(),
                depends_on: Vec::new(),
            };
            Self {
                pseudo: Pseudo {
                    region: "us-east-1".into(),
                    stack_name: "p".into(),
                    account_id: Some("123456789012".into()),
                },
                parameters: BTreeMap::from([
                    ("Level".into(), json!("info")),
                    ("Empty".into(), json!("")),
                    ("Zones".into(), json!(["a", "b"])),
                ]),
                conditions: BTreeMap::from([("IsProd".into(), false)]),
                mappings: json!({"Sizes": {"prod": {"Memory": 512}}})
                    .as_object()
                    .unwrap()
                    .clone(),
                resources: BTreeMap::from([("Queue".into(), queue)]),
                declared: BTreeMap::from([
                    ("Queue".into(), decl("AWS::SQS::Queue")),
                    ("Logs".into(), decl("AWS::Logs::LogGroup")),
                ]),
            }
        }

        fn scope(&self) -> Scope<'_> {
            Scope {
                pseudo: &self.pseudo,
                parameters: &self.parameters,
                conditions: &self.conditions,
                mappings: &self.mappings,
                resources: &self.resources,
                declared: &self.declared,
            }
        }

        fn eval(&self, v: Value) -> Result<Option<Value>, IntrinsicError> {
            evaluate(&v, &self.scope())
        }
    }

    #[test]
    fn ref_resolves_parameters_resources_and_pseudo_parameters() {
        let f = Fixture::new();
        assert_eq!(
            f.eval(json!({"Ref": "Level"})).unwrap(),
            Some(json!("info"))
        );
        assert_eq!(
            f.eval(json!({"Ref": "Queue"})).unwrap(),
            Some(json!("http://127.0.0.1:4566/123456789012/p-queue.fifo"))
        );
        assert_eq!(
            f.eval(json!({"Ref": "AWS::StackName"})).unwrap(),
            Some(json!("p"))
        );
        assert_eq!(f.eval(json!({"Ref": "AWS::NoValue"})).unwrap(), None);
    }

    #[test]
    fn no_value_drops_the_property_or_list_item() {
        let f = Fixture::new();
        let v = f
            .eval(json!({"A": {"Ref": "AWS::NoValue"}, "B": [1, {"Ref": "AWS::NoValue"}, 2]}))
            .unwrap();
        assert_eq!(v, Some(json!({"B": [1, 2]})));
    }

    #[test]
    fn sub_expands_refs_attributes_variables_and_escapes() {
        let f = Fixture::new();
        let v = f
            .eval(json!({"Fn::Sub": ["${AWS::StackName}/${Queue.QueueName}/${X}/${!Literal}/${Level}", {"X": {"Ref": "AWS::Region"}}]}))
            .unwrap();
        assert_eq!(v, Some(json!("p/p-queue.fifo/us-east-1/${Literal}/info")));
    }

    #[test]
    fn getatt_join_select_split_if_and_find_in_map() {
        let f = Fixture::new();
        assert_eq!(
            f.eval(json!({"Fn::GetAtt": ["Queue", "Arn"]})).unwrap(),
            Some(json!("arn:aws:sqs:us-east-1:123456789012:p-queue.fifo"))
        );
        assert_eq!(
            f.eval(json!({"Fn::Join": ["-", [{"Ref": "Level"}, "x"]]}))
                .unwrap(),
            Some(json!("info-x"))
        );
        assert_eq!(
            f.eval(json!({"Fn::Select": ["1", {"Ref": "Zones"}]}))
                .unwrap(),
            Some(json!("b"))
        );
        assert_eq!(
            f.eval(json!({"Fn::Split": [",", "a,b"]})).unwrap(),
            Some(json!(["a", "b"]))
        );
        assert_eq!(
            f.eval(json!({"Fn::If": ["IsProd", "big", "small"]}))
                .unwrap(),
            Some(json!("small"))
        );
        assert_eq!(
            f.eval(json!({"Fn::FindInMap": ["Sizes", "prod", "Memory"]}))
                .unwrap(),
            Some(json!(512))
        );
    }

    #[test]
    fn unresolvable_references_name_what_is_missing() {
        let f = Fixture::new();
        assert_eq!(
            f.eval(json!({"Ref": "Typo"})).unwrap_err(),
            IntrinsicError::UnknownName {
                reference: "!Ref Typo".into(),
                name: "Typo".into()
            }
        );
        let err = f.eval(json!({"Fn::Sub": "${Logs.Arn}"})).unwrap_err();
        assert_eq!(
            err,
            IntrinsicError::NotCreated {
                reference: "!GetAtt Logs.Arn".into(),
                resource: "Logs".into(),
                kind: "AWS::Logs::LogGroup".into()
            }
        );
        assert_eq!(
            f.eval(json!({"Fn::GetAtt": ["Queue", "Nope"]}))
                .unwrap_err(),
            IntrinsicError::UnknownAttribute {
                resource: "Queue".into(),
                attribute: "Nope".into()
            }
        );
        assert_eq!(
            f.eval(json!({"Fn::ImportValue": "x"})).unwrap_err(),
            IntrinsicError::Unsupported("Fn::ImportValue".into())
        );
    }

    #[test]
    fn conditions_resolve_through_each_other_and_detect_cycles() {
        let f = Fixture::new();
        let definitions = json!({
            "HasLevel": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Level"}, ""]}]},
            "HasEmpty": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Empty"}, ""]}]},
            "Both": {"Fn::And": [{"Condition": "HasLevel"}, {"Condition": "HasEmpty"}]},
            "Either": {"Fn::Or": [{"Condition": "HasLevel"}, {"Condition": "HasEmpty"}]},
        });
        let resolved = resolve_conditions(definitions.as_object().unwrap(), &f.scope()).unwrap();
        assert_eq!(
            resolved,
            BTreeMap::from([
                ("Both".into(), false),
                ("Either".into(), true),
                ("HasEmpty".into(), false),
                ("HasLevel".into(), true),
            ])
        );
        let cyclic =
            json!({"A": {"Fn::Not": [{"Condition": "B"}]}, "B": {"Fn::Not": [{"Condition": "A"}]}});
        assert!(matches!(
            resolve_conditions(cyclic.as_object().unwrap(), &f.scope()),
            Err(IntrinsicError::ConditionCycle(_))
        ));
    }

    #[test]
    fn references_cover_ref_getatt_and_sub_but_not_sub_variables() {
        let v = json!({
            "A": {"Ref": "Table"},
            "B": {"Fn::GetAtt": ["Queue", "Arn"]},
            "C": {"Fn::Sub": ["${Bucket.Arn}/${Local}/${!Escaped}/${AWS::Region}", {"Local": {"Ref": "Key"}}]},
        });
        assert_eq!(
            references(&v),
            BTreeSet::from(["AWS::Region", "Bucket", "Key", "Queue", "Table"].map(String::from))
        );
    }
}
