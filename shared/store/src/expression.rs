//! Placeholders for DynamoDB expressions. Every attribute name goes through `#name`, so no
//! attribute can collide with DynamoDB's long list of reserved words (`status`, `name`, …).

use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

#[derive(Debug, Default)]
pub(crate) struct Placeholders {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Placeholders {
    /// `#attr` for an attribute name made of `[a-z0-9_]`.
    pub(crate) fn name(&mut self, attribute: &str) -> String {
        let placeholder = format!("#{attribute}");
        self.names.insert(placeholder.clone(), attribute.to_owned());
        placeholder
    }

    /// `#label` standing for `attribute`: for an attribute whose own name cannot be a
    /// placeholder (a phone number id as a map key).
    pub(crate) fn name_labelled(&mut self, label: &str, attribute: &str) -> String {
        let placeholder = format!("#{label}");
        self.names.insert(placeholder.clone(), attribute.to_owned());
        placeholder
    }

    /// `:label` bound to `value`.
    pub(crate) fn value(&mut self, label: &str, value: AttributeValue) -> String {
        let placeholder = format!(":{label}");
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    pub(crate) fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    pub(crate) fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

/// Builds `SET a = b, … REMOVE c, … ADD d e`.
#[derive(Debug, Default)]
pub(crate) struct UpdateExpression {
    set: Vec<String>,
    remove: Vec<String>,
    add: Vec<String>,
}

impl UpdateExpression {
    pub(crate) fn set(&mut self, clause: String) -> &mut Self {
        self.set.push(clause);
        self
    }
    pub(crate) fn remove(&mut self, name: String) -> &mut Self {
        self.remove.push(name);
        self
    }
    pub(crate) fn add(&mut self, clause: String) -> &mut Self {
        self.add.push(clause);
        self
    }
    pub(crate) fn build(&self) -> String {
        let mut parts = Vec::new();
        if !self.set.is_empty() {
            parts.push(format!("SET {}", self.set.join(", ")));
        }
        if !self.remove.is_empty() {
            parts.push(format!("REMOVE {}", self.remove.join(", ")));
        }
        if !self.add.is_empty() {
            parts.push(format!("ADD {}", self.add.join(", ")));
        }
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_clauses_in_dynamodb_syntax() {
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        let status = p.name("status");
        let v = p.value("s", AttributeValue::S("sent".into()));
        u.set(format!("{status} = {v}"));
        u.remove(p.name("error"));
        u.add(format!(
            "{} {}",
            p.name("message_count"),
            p.value("one", AttributeValue::N("1".into()))
        ));
        assert_eq!(
            u.build(),
            "SET #status = :s REMOVE #error ADD #message_count :one"
        );
        assert_eq!(p.names().unwrap().len(), 3);
        assert_eq!(p.values().unwrap().len(), 2);
    }
}
