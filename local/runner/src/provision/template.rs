//! Reads a SAM template into plain JSON values, with CloudFormation's YAML short tags (`!Ref`,
//! `!GetAtt`, `!Sub`, ...) rewritten to their long JSON forms (`{"Ref": ..}`, `{"Fn::GetAtt": ..}`),
//! so the evaluator handles one syntax whichever the template author used.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not valid YAML: {source}")]
    Yaml {
        path: String,
        source: serde_norway::Error,
    },
    #[error("{0}")]
    Shape(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParameterDecl {
    /// CloudFormation parameter type, e.g. `String`, `Number`, `CommaDelimitedList`.
    pub kind: String,
    pub default: Option<String>,
    pub allowed_values: Option<Vec<String>>,
    pub min_value: Option<f64>,
    pub max_value: Option<f64>,
}

impl ParameterDecl {
    pub fn is_list(&self) -> bool {
        self.kind == "CommaDelimitedList" || self.kind.starts_with("List<")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResourceDecl {
    pub kind: String,
    pub condition: Option<String>,
    pub properties: Map<String, Value>,
    pub metadata: Map<String, Value>,
    pub depends_on: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Template {
    pub parameters: BTreeMap<String, ParameterDecl>,
    pub conditions: Map<String, Value>,
    pub mappings: Map<String, Value>,
    /// `Globals.Function`: properties SAM merges into every `AWS::Serverless::Function`.
    pub function_globals: Map<String, Value>,
    pub resources: BTreeMap<String, ResourceDecl>,
}

impl Template {
    pub fn load(path: &Path) -> Result<Self, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let yaml: serde_norway::Value =
            serde_norway::from_str(&text).map_err(|source| TemplateError::Yaml {
                path: path.display().to_string(),
                source,
            })?;
        Self::from_value(to_long_form(yaml)?)
    }

    #[cfg(test)]
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let yaml: serde_norway::Value =
            serde_norway::from_str(text).map_err(|source| TemplateError::Yaml {
                path: "template".into(),
                source,
            })?;
        Self::from_value(to_long_form(yaml)?)
    }

    fn from_value(root: Value) -> Result<Self, TemplateError> {
        let Value::Object(mut root) = root else {
            return Err(TemplateError::Shape("the template is not a mapping".into()));
        };
        let section = |root: &mut Map<String, Value>,
                       name: &str|
         -> Result<Map<String, Value>, TemplateError> {
            match root.remove(name) {
                None | Some(Value::Null) => Ok(Map::new()),
                Some(Value::Object(m)) => Ok(m),
                Some(_) => Err(TemplateError::Shape(format!("{name} is not a mapping"))),
            }
        };
        let parameters = section(&mut root, "Parameters")?
            .into_iter()
            .map(|(name, decl)| parameter(&name, decl).map(|p| (name, p)))
            .collect::<Result<_, _>>()?;
        let conditions = section(&mut root, "Conditions")?;
        let mappings = section(&mut root, "Mappings")?;
        let function_globals = match section(&mut root, "Globals")?.remove("Function") {
            None => Map::new(),
            Some(Value::Object(m)) => m,
            Some(_) => {
                return Err(TemplateError::Shape(
                    "Globals.Function is not a mapping".into(),
                ));
            }
        };
        let resources = section(&mut root, "Resources")?
            .into_iter()
            .map(|(name, decl)| resource(&name, decl).map(|r| (name, r)))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            parameters,
            conditions,
            mappings,
            function_globals,
            resources,
        })
    }
}

fn parameter(name: &str, decl: Value) -> Result<ParameterDecl, TemplateError> {
    let Value::Object(decl) = decl else {
        return Err(TemplateError::Shape(format!(
            "parameter {name} is not a mapping"
        )));
    };
    let kind = decl
        .get("Type")
        .and_then(Value::as_str)
        .ok_or_else(|| TemplateError::Shape(format!("parameter {name} has no Type")))?
        .to_owned();
    let number = |key: &str| {
        decl.get(key)
            .and_then(scalar_text)
            .and_then(|s| s.parse::<f64>().ok())
    };
    Ok(ParameterDecl {
        kind,
        default: decl.get("Default").and_then(scalar_text),
        allowed_values: decl
            .get("AllowedValues")
            .and_then(Value::as_array)
            .map(|values| values.iter().filter_map(scalar_text).collect()),
        min_value: number("MinValue"),
        max_value: number("MaxValue"),
    })
}

fn resource(name: &str, decl: Value) -> Result<ResourceDecl, TemplateError> {
    let Value::Object(mut decl) = decl else {
        return Err(TemplateError::Shape(format!(
            "resource {name} is not a mapping"
        )));
    };
    let kind = decl
        .get("Type")
        .and_then(Value::as_str)
        .ok_or_else(|| TemplateError::Shape(format!("resource {name} has no Type")))?
        .to_owned();
    let object = |decl: &mut Map<String, Value>, key: &str| match decl.remove(key) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err(TemplateError::Shape(format!(
            "{key} of resource {name} is not a mapping"
        ))),
    };
    let depends_on = match decl.remove("DependsOn") {
        None => Vec::new(),
        Some(Value::String(s)) => vec![s],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(_) => {
            return Err(TemplateError::Shape(format!(
                "DependsOn of resource {name} is not a list"
            )));
        }
    };
    Ok(ResourceDecl {
        kind,
        condition: decl
            .get("Condition")
            .and_then(Value::as_str)
            .map(str::to_owned),
        properties: object(&mut decl, "Properties")?,
        metadata: object(&mut decl, "Metadata")?,
        depends_on,
    })
}

/// The text of a scalar as CloudFormation sees it: parameters are strings, even `Default: 5`.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Converts YAML to JSON, expanding CloudFormation short-form tags to long-form intrinsics.
pub fn to_long_form(yaml: serde_norway::Value) -> Result<Value, TemplateError> {
    use serde_norway::Value as Y;
    Ok(match yaml {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(|| TemplateError::Shape(format!("number {n} has no JSON form")))?
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(to_long_form)
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(mapping) => {
            let mut out = Map::new();
            for (key, value) in mapping {
                let key = match key {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => {
                        return Err(TemplateError::Shape(format!(
                            "unsupported mapping key {other:?}"
                        )));
                    }
                };
                out.insert(key, to_long_form(value)?);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let value = to_long_form(tagged.value)?;
            let (key, value) = match name {
                "Ref" | "Condition" => (name.to_owned(), value),
                // `!GetAtt Resource.Attribute`; attribute names may themselves contain dots.
                "GetAtt" => match value {
                    Value::String(s) => {
                        let (resource, attribute) = s.split_once('.').ok_or_else(|| {
                            TemplateError::Shape(format!(
                                "!GetAtt {s}: expected Resource.Attribute"
                            ))
                        })?;
                        (
                            "Fn::GetAtt".to_owned(),
                            Value::from(vec![resource, attribute]),
                        )
                    }
                    other => ("Fn::GetAtt".to_owned(), other),
                },
                _ => (format!("Fn::{name}"), value),
            };
            Value::Object(Map::from_iter([(key, value)]))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn long(yaml: &str) -> Value {
        to_long_form(serde_norway::from_str(yaml).unwrap()).unwrap()
    }

    #[test]
    fn short_tags_become_long_form_intrinsics() {
        let v = long(
            r#"
a: !Ref Table
b: !GetAtt Queue.Arn
c: !GetAtt [Queue, Arn]
d: !Sub "${AWS::StackName}-x"
e: !If [IsProd, !Ref A, !Ref AWS::NoValue]
f: !Not [!Equals [!Ref P, ""]]
g: !Select [0, !Split [",", "a,b"]]
"#,
        );
        assert_eq!(
            v,
            json!({
                "a": {"Ref": "Table"},
                "b": {"Fn::GetAtt": ["Queue", "Arn"]},
                "c": {"Fn::GetAtt": ["Queue", "Arn"]},
                "d": {"Fn::Sub": "${AWS::StackName}-x"},
                "e": {"Fn::If": ["IsProd", {"Ref": "A"}, {"Ref": "AWS::NoValue"}]},
                "f": {"Fn::Not": [{"Fn::Equals": [{"Ref": "P"}, ""]}]},
                "g": {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]},
            })
        );
    }

    #[test]
    fn sections_are_split_out() {
        let t = Template::parse(
            r#"
Parameters:
  Retry: {Type: Number, Default: 5, MinValue: 0}
  Mode: {Type: String, AllowedValues: [a, b]}
Globals:
  Function:
    Environment: {Variables: {X: !Ref Retry}}
Resources:
  Q:
    Type: AWS::SQS::Queue
    Condition: Always
    DependsOn: T
  T:
    Type: AWS::DynamoDB::Table
    Properties: {BillingMode: PAY_PER_REQUEST}
"#,
        )
        .unwrap();
        assert_eq!(t.parameters["Retry"].default.as_deref(), Some("5"));
        assert_eq!(t.parameters["Retry"].min_value, Some(0.0));
        assert_eq!(
            t.parameters["Mode"].allowed_values,
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        assert_eq!(
            t.function_globals["Environment"],
            json!({"Variables": {"X": {"Ref": "Retry"}}})
        );
        assert_eq!(t.resources["Q"].condition.as_deref(), Some("Always"));
        assert_eq!(t.resources["Q"].depends_on, vec!["T".to_owned()]);
        assert_eq!(
            t.resources["T"].properties["BillingMode"],
            json!("PAY_PER_REQUEST")
        );
    }

    #[test]
    fn a_getatt_without_attribute_is_rejected() {
        let err = to_long_form(serde_norway::from_str("a: !GetAtt Queue").unwrap()).unwrap_err();
        assert!(err.to_string().contains("!GetAtt Queue"), "{err}");
    }
}
