//! Meters one DynamoDB call against the emulator: the items a write touches are read back
//! (strongly consistent) before and after it, and a read is asked again to see what it
//! returned; [`capacity`](crate::capacity) turns those items into units. The extra requests go
//! straight to the emulator, are never recorded as the function's calls, and cost the metered
//! call some latency, so only measuring runs turn the meter on.

use crate::capacity::{self, Capacity};
use aws_smithy_runtime_api::client::http::{HttpConnector, SharedHttpConnector};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use serde_json::{Value, json};

/// One item a write names: its table and key.
struct Target {
    table: String,
    key: Value,
}

/// What a call touches, as far as capacity goes.
enum Plan {
    Writes {
        targets: Vec<Target>,
        transactional: bool,
    },
    Read {
        whole: bool,
        transactional: bool,
    },
    Free,
}

fn plan(operation: &str, body: &Value) -> Plan {
    let table = body.get("TableName").and_then(Value::as_str).unwrap_or("");
    let single = |key: Option<&Value>| {
        key.and_then(|k| capacity::table_key(k).or_else(|| Some(k.clone())))
            .map(|key| Target {
                table: table.to_owned(),
                key,
            })
            .into_iter()
            .collect::<Vec<_>>()
    };
    match operation {
        "PutItem" => Plan::Writes {
            targets: single(body.get("Item")),
            transactional: false,
        },
        "UpdateItem" | "DeleteItem" => Plan::Writes {
            targets: single(body.get("Key")),
            transactional: false,
        },
        "TransactWriteItems" => {
            let targets = body
                .get("TransactItems")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_object)
                .flat_map(|o| o.values())
                .filter_map(|op| {
                    let table = op.get("TableName")?.as_str()?.to_owned();
                    let key = op
                        .get("Key")
                        .cloned()
                        .or_else(|| op.get("Item").and_then(capacity::table_key))?;
                    Some(Target { table, key })
                })
                .collect();
            Plan::Writes {
                targets,
                transactional: true,
            }
        }
        "BatchWriteItem" => {
            let mut targets = Vec::new();
            for (table, requests) in body
                .get("RequestItems")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                for request in requests.as_array().into_iter().flatten() {
                    let key = request
                        .pointer("/PutRequest/Item")
                        .and_then(capacity::table_key)
                        .or_else(|| request.pointer("/DeleteRequest/Key").cloned());
                    if let Some(key) = key {
                        targets.push(Target {
                            table: table.clone(),
                            key,
                        });
                    }
                }
            }
            Plan::Writes {
                targets,
                transactional: false,
            }
        }
        "GetItem" | "BatchGetItem" => Plan::Read {
            whole: false,
            transactional: false,
        },
        "TransactGetItems" => Plan::Read {
            whole: false,
            transactional: true,
        },
        "Query" | "Scan" => Plan::Read {
            whole: true,
            transactional: false,
        },
        _ => Plan::Free,
    }
}

/// Sends `request`, and meters it when it is a DynamoDB data call.
pub async fn metered(
    inner: SharedHttpConnector,
    request: HttpRequest,
    operation: &str,
    body: &str,
) -> (Result<HttpResponse, ConnectorError>, Option<Capacity>) {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let side = Side::of(&inner, &request);
    match plan(operation, &json) {
        Plan::Free => (inner.call(request).await, None),
        Plan::Writes {
            targets,
            transactional,
        } => {
            let mut before = Vec::with_capacity(targets.len());
            for t in &targets {
                before.push(side.get(t).await);
            }
            let response = inner.call(request).await;
            let mut used = Capacity::default();
            for (t, before) in targets.iter().zip(before) {
                let after = side.get(t).await;
                used += capacity::write(before.as_ref(), after.as_ref(), transactional);
            }
            (response, Some(used))
        }
        Plan::Read {
            whole,
            transactional,
        } => {
            let response = inner.call(request).await;
            let answer = side
                .send(operation, body.to_owned())
                .await
                .unwrap_or(Value::Null);
            let items = returned_items(operation, &answer);
            let consistent = json
                .get("ConsistentRead")
                .and_then(Value::as_bool)
                .or_else(|| {
                    json.pointer("/RequestItems")
                        .and_then(Value::as_object)
                        .and_then(|r| r.values().next())
                        .and_then(|t| t.get("ConsistentRead"))
                        .and_then(Value::as_bool)
                })
                .unwrap_or(false);
            let used = capacity::read(&items, consistent, whole, transactional);
            (response, Some(used))
        }
    }
}

fn returned_items(operation: &str, answer: &Value) -> Vec<Value> {
    match operation {
        "GetItem" => answer.get("Item").cloned().into_iter().collect(),
        "Query" | "Scan" => answer
            .get("Items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        "BatchGetItem" => answer
            .get("Responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .flat_map(|(_, items)| items.as_array().cloned().unwrap_or_default())
            .collect(),
        "TransactGetItems" => answer
            .get("Responses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.get("Item").cloned())
            .collect(),
        _ => Vec::new(),
    }
}

/// Requests of the meter's own, to the emulator the call went to. The emulator does not check
/// signatures; the call's own headers carry the region it reads from the credential scope.
struct Side {
    inner: SharedHttpConnector,
    uri: String,
    authorization: Option<String>,
}

impl Side {
    fn of(inner: &SharedHttpConnector, request: &HttpRequest) -> Self {
        Self {
            inner: inner.clone(),
            uri: request.uri().to_owned(),
            authorization: request.headers().get("authorization").map(str::to_owned),
        }
    }

    async fn get(&self, target: &Target) -> Option<Value> {
        let body = json!({ "TableName": target.table, "Key": target.key, "ConsistentRead": true });
        let answer = self.send("GetItem", body.to_string()).await?;
        answer.get("Item").cloned()
    }

    async fn send(&self, operation: &str, body: String) -> Option<Value> {
        let mut builder = http::Request::builder()
            .method("POST")
            .uri(&self.uri)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", format!("DynamoDB_20120810.{operation}"));
        if let Some(auth) = &self.authorization {
            builder = builder.header("authorization", auth);
        }
        let request = builder.body(SdkBody::from(body)).ok()?;
        let request = HttpRequest::try_from(request).ok()?;
        let response = self.inner.call(request).await.ok()?;
        let bytes = ByteStream::new(response.into_body()).collect().await.ok()?;
        serde_json::from_slice(&bytes.into_bytes()).ok()
    }
}
