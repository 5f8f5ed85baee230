//! Every AWS call a function makes locally passes through [`AwsCallRecorder`]: an HTTP client
//! around the SDK's own, installed in the function's `SdkConfig`. It records which function
//! called which action on which resource (the end-to-end suite checks those against the
//! function's IAM policies in template.yaml) and fails calls on request, before or after they
//! reach the emulator, so tests can cut a function off at every step.

use aws_config::SdkConfig;
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::{Arc, Mutex, PoisonError};

/// One AWS API call, as IAM sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AwsCall {
    /// The template's logical id of the calling function, e.g. `WebhookFunction`.
    pub function: String,
    /// The IAM action, e.g. `dynamodb:PutItem`, `sqs:SendMessage`, `s3:ListBucket`.
    pub action: String,
    /// The API operation, e.g. `SendMessageBatch` (IAM's action for it is `sqs:SendMessage`).
    pub operation: String,
    /// What the call names: table, queue URL, `bucket/key`, secret id, key id.
    pub resources: Vec<String>,
    /// DynamoDB: the partition key values the call reads or writes (`dynamodb:LeadingKeys`).
    pub partition_keys: Vec<String>,
    /// S3 listings: the prefix asked for (`s3:prefix`).
    pub prefix: Option<String>,
    /// What IAM authorizes for the call: one entry per resource, and for a transaction one
    /// per item, each with the item's own action (`TransactWriteItems` is authorized as the
    /// `PutItem`, `UpdateItem`, ... of its items).
    pub needs: Vec<Need>,
    /// DynamoDB units the call consumed, when the recorder meters capacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<crate::capacity::Capacity>,
}

/// One authorization a call needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Need {
    pub action: String,
    pub resource: String,
    pub partition_keys: Vec<String>,
}

/// When an injected fault strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultPhase {
    /// The request never leaves: like a network failure or a process killed before the call.
    BeforeSend,
    /// The request is applied by the emulator, but the caller never sees the answer.
    AfterSend,
    /// The service refuses the request as throttled (HTTP 400 `ThrottlingException`, what
    /// DynamoDB, SQS and KMS answer over their JSON protocols); nothing is applied.
    Throttled,
}

/// Fails the next `times` matching calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsFault {
    /// Only calls of this function (logical id); any function when `None`.
    pub function: Option<String>,
    /// IAM action, e.g. `dynamodb:UpdateItem`.
    pub action: String,
    /// Only requests whose body contains this text (e.g. a status value or a key prefix).
    pub body_contains: Option<String>,
    pub phase: FaultPhase,
    pub times: u32,
}

#[derive(Debug, Default)]
struct Shared {
    calls: Vec<AwsCall>,
    faults: Vec<AwsFault>,
    injected: usize,
    metering: bool,
}

/// The record of every call and the queue of faults, shared by all functions of a stack.
#[derive(Debug, Clone, Default)]
pub struct AwsCallRecorder {
    shared: Arc<Mutex<Shared>>,
}

impl AwsCallRecorder {
    /// `sdk` with every call recorded as made by `function`.
    pub fn sdk_for(&self, function: &str, sdk: &SdkConfig) -> SdkConfig {
        // The SDK builds its default client lazily, per service client, when none is set.
        let inner = sdk.http_client().unwrap_or_else(|| {
            aws_smithy_http_client::Builder::new()
                .tls_provider(tls::Provider::Rustls(
                    tls::rustls_provider::CryptoMode::AwsLc,
                ))
                .build_https()
        });
        let client = RecordingClient {
            inner,
            function: Arc::from(function),
            recorder: self.clone(),
        };
        sdk.to_builder().http_client(client).build()
    }

    pub fn inject(&self, fault: AwsFault) {
        self.lock().faults.push(fault);
    }

    /// Drops the faults that have not struck yet.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Faults that have struck so far.
    pub fn injected(&self) -> usize {
        self.lock().injected
    }

    /// Meters the DynamoDB capacity of every later call ([`crate::capacity_meter`]), or stops.
    pub fn meter_capacity(&self, on: bool) {
        self.lock().metering = on;
    }

    pub fn calls(&self) -> Vec<AwsCall> {
        self.lock().calls.clone()
    }

    /// Records a request made with a URL `function` presigned (an S3 GET or POST a browser
    /// sends): S3 authorizes it as the signer's call, so the signer's role must allow it.
    /// A presigned POST is recorded as the `PUT` of its object's URL: that is what it writes.
    pub fn record_presigned(&self, function: &str, method: &str, url: &str) {
        let Ok(request) = http::Request::builder()
            .method(method)
            .uri(url)
            .body(aws_smithy_types::body::SdkBody::empty())
        else {
            return;
        };
        let Ok(request) = HttpRequest::try_from(request) else {
            return;
        };
        let mut call = describe(function, &request, "");
        call.operation = format!("Presigned{}", call.operation);
        self.observe(call, "");
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_capacity(&self, index: usize, capacity: crate::capacity::Capacity) {
        if let Some(call) = self.lock().calls.get_mut(index) {
            call.capacity = Some(capacity);
        }
    }

    fn metering(&self) -> bool {
        self.lock().metering
    }

    /// Records the call and says which fault, if any, it meets.
    fn observe(&self, call: AwsCall, body: &str) -> Option<FaultPhase> {
        self.observe_at(call, body).1
    }

    /// As [`Self::observe`], with where the call is kept.
    fn observe_at(&self, call: AwsCall, body: &str) -> (usize, Option<FaultPhase>) {
        let mut shared = self.lock();
        let fault = shared.faults.iter_mut().find(|f| {
            f.times > 0
                && f.action == call.action
                && f.function.as_deref().is_none_or(|fun| fun == call.function)
                && f.body_contains.as_deref().is_none_or(|t| body.contains(t))
        });
        let phase = fault.map(|f| {
            f.times -= 1;
            f.phase
        });
        shared.faults.retain(|f| f.times > 0);
        if phase.is_some() {
            shared.injected += 1;
        }
        shared.calls.push(call);
        (shared.calls.len() - 1, phase)
    }
}

#[derive(Debug)]
struct RecordingClient {
    inner: SharedHttpClient,
    function: Arc<str>,
    recorder: AwsCallRecorder,
}

impl HttpClient for RecordingClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(RecordingConnector {
            inner: self.inner.http_connector(settings, components),
            function: Arc::clone(&self.function),
            recorder: self.recorder.clone(),
        })
    }
}

#[derive(Debug)]
struct RecordingConnector {
    inner: SharedHttpConnector,
    function: Arc<str>,
    recorder: AwsCallRecorder,
}

impl HttpConnector for RecordingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let body = request
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let call = describe(&self.function, &request, &body);
        let (index, phase) = self.recorder.observe_at(call.clone(), &body);
        let inner = self.inner.clone();
        let meter = self.recorder.metering() && call.action.starts_with("dynamodb:");
        let recorder = self.recorder.clone();
        HttpConnectorFuture::new(async move {
            match phase {
                Some(FaultPhase::BeforeSend) => Err(injected(&call, "before it was sent")),
                Some(FaultPhase::AfterSend) => {
                    let _ = inner.call(request).await;
                    Err(injected(&call, "after it was applied"))
                }
                Some(FaultPhase::Throttled) => throttled(),
                None if meter => {
                    let (response, used) =
                        crate::capacity_meter::metered(inner, request, &call.operation, &body)
                            .await;
                    if let Some(used) = used {
                        recorder.set_capacity(index, used);
                    }
                    response
                }
                None => inner.call(request).await,
            }
        })
    }
}

fn throttled() -> Result<HttpResponse, ConnectorError> {
    let body = r#"{"__type":"ThrottlingException","message":"Rate exceeded (injected)"}"#;
    http::Response::builder()
        .status(400)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amzn-query-error", "ThrottlingException;Sender")
        .body(aws_smithy_types::body::SdkBody::from(body))
        .map_err(|e| ConnectorError::other(e.into(), None))
        .and_then(|r| HttpResponse::try_from(r).map_err(|e| ConnectorError::other(e.into(), None)))
}

fn injected(call: &AwsCall, when: &str) -> ConnectorError {
    ConnectorError::io(
        format!(
            "injected fault: {} of {} failed {when}",
            call.action, call.function
        )
        .into(),
    )
}

/// Names the call the way IAM does, from the request alone.
fn describe(function: &str, request: &HttpRequest, body: &str) -> AwsCall {
    let target = request.headers().get("x-amz-target").unwrap_or_default();
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let mut call = AwsCall {
        function: function.to_owned(),
        action: String::new(),
        operation: String::new(),
        resources: Vec::new(),
        partition_keys: Vec::new(),
        prefix: None,
        needs: Vec::new(),
        capacity: None,
    };
    if let Some((prefix, operation)) = target.split_once('.') {
        let service = match prefix {
            p if p.starts_with("DynamoDB") => "dynamodb",
            "AmazonSQS" => "sqs",
            "secretsmanager" => "secretsmanager",
            "TrentService" => "kms",
            other => other,
        };
        call.operation = operation.to_owned();
        call.action = format!("{service}:{}", iam_action(service, operation));
        match service {
            "dynamodb" => dynamodb_targets(&json, &mut call),
            "sqs" => push_str(&json, "QueueUrl", &mut call.resources),
            "secretsmanager" => push_str(&json, "SecretId", &mut call.resources),
            "kms" => push_str(&json, "KeyId", &mut call.resources),
            _ => {}
        }
    } else {
        s3_call(request, &mut call);
    }
    if call.needs.is_empty() {
        call.needs = call
            .resources
            .iter()
            .map(|r| Need {
                action: call.action.clone(),
                resource: r.clone(),
                partition_keys: call.partition_keys.clone(),
            })
            .collect();
    }
    call
}

/// Batch operations are authorized as their single-item action.
fn iam_action<'a>(service: &str, operation: &'a str) -> &'a str {
    match (service, operation) {
        ("sqs", "SendMessageBatch") => "SendMessage",
        ("sqs", "DeleteMessageBatch") => "DeleteMessage",
        ("sqs", "ChangeMessageVisibilityBatch") => "ChangeMessageVisibility",
        _ => operation,
    }
}

fn push_str(json: &Value, field: &str, out: &mut Vec<String>) {
    if let Some(v) = json.get(field).and_then(Value::as_str) {
        out.push(v.to_owned());
    }
}

fn partition_key(item: &Value) -> Option<String> {
    item.get("pk")?.get("S")?.as_str().map(str::to_owned)
}

fn dynamodb_targets(json: &Value, call: &mut AwsCall) {
    let mut add = |table: Option<&str>, item: Option<&Value>| {
        if let Some(t) = table
            && !call.resources.iter().any(|r| r == t)
        {
            call.resources.push(t.to_owned());
        }
        if let Some(pk) = item.and_then(partition_key) {
            call.partition_keys.push(pk);
        }
    };
    let table = json.get("TableName").and_then(Value::as_str);
    add(table, json.get("Key").or_else(|| json.get("Item")));
    let mut needs = Vec::new();
    if let Some(items) = json.get("TransactItems").and_then(Value::as_array) {
        for (kind, op) in items
            .iter()
            .filter_map(Value::as_object)
            .flat_map(|o| o.iter())
        {
            let table = op.get("TableName").and_then(Value::as_str);
            let item = op.get("Key").or_else(|| op.get("Item"));
            add(table, item);
            let action = match kind.as_str() {
                "Put" => "PutItem",
                "Update" => "UpdateItem",
                "Delete" => "DeleteItem",
                "ConditionCheck" => "ConditionCheckItem",
                "Get" => "GetItem",
                other => other,
            };
            needs.push(Need {
                action: format!("dynamodb:{action}"),
                resource: table.unwrap_or_default().to_owned(),
                partition_keys: item.and_then(partition_key).into_iter().collect(),
            });
        }
    }
    if let Some(requests) = json.get("RequestItems").and_then(Value::as_object) {
        for (t, v) in requests {
            add(Some(t), None);
            for entry in v.as_array().into_iter().flatten() {
                let item = entry
                    .pointer("/PutRequest/Item")
                    .or_else(|| entry.pointer("/DeleteRequest/Key"));
                add(None, item);
            }
            for key in v
                .get("Keys")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                add(None, Some(key));
            }
        }
    }
    // Query: the partition key is behind placeholders in the key condition.
    if let Some(condition) = json.get("KeyConditionExpression").and_then(Value::as_str) {
        let names = json.get("ExpressionAttributeNames");
        let values = json.get("ExpressionAttributeValues");
        let tokens: Vec<&str> = condition.split_whitespace().collect();
        for w in tokens.windows(3) {
            let name = names
                .and_then(|n| n.get(w[0]))
                .and_then(Value::as_str)
                .unwrap_or(w[0]);
            if w[1] == "=" && (name == "pk" || name == "gsi1pk") {
                let value = w[2].trim_end_matches(')');
                if let Some(v) = values
                    .and_then(|v| v.get(value))
                    .and_then(|v| v.get("S"))
                    .and_then(Value::as_str)
                {
                    call.partition_keys.push(v.to_owned());
                }
            }
        }
        if let Some(index) = json.get("IndexName").and_then(Value::as_str)
            && let Some(t) = table
        {
            let resource = format!("{t}/index/{index}");
            call.resources.push(resource.clone());
            // A query of an index is authorized on the index alone.
            needs.push(Need {
                action: call.action.clone(),
                resource,
                partition_keys: call.partition_keys.clone(),
            });
        }
    }
    call.needs = needs;
}

/// S3 is REST: the operation follows from the method, path and query (path-style URLs).
fn s3_call(request: &HttpRequest, call: &mut AwsCall) {
    let uri = request.uri();
    let after_host = uri
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or(uri)
        .split_once('/')
        .map(|(_, path)| path)
        .unwrap_or_default();
    let (path, query) = after_host.split_once('?').unwrap_or((after_host, ""));
    let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
    let has = |q: &str| {
        query
            .split('&')
            .any(|p| p == q || p.starts_with(&format!("{q}=")))
    };
    let copy_source = request
        .headers()
        .get("x-amz-copy-source")
        .map(|source| percent_decode(source.trim_start_matches('/')));
    let operation = match (request.method(), key.is_empty()) {
        ("GET", true) if has("list-type") => "ListObjectsV2",
        ("GET", true) => "ListObjects",
        ("POST", true) if has("delete") => "DeleteObjects",
        ("POST", false) if has("uploads") => "CreateMultipartUpload",
        ("POST", false) if has("uploadId") => "CompleteMultipartUpload",
        ("PUT", false) if copy_source.is_some() && has("uploadId") => "UploadPartCopy",
        ("PUT", false) if copy_source.is_some() => "CopyObject",
        ("PUT", false) if has("uploadId") => "UploadPart",
        ("PUT", false) => "PutObject",
        ("GET", false) => "GetObject",
        ("HEAD", false) => "HeadObject",
        ("DELETE", false) if has("uploadId") => "AbortMultipartUpload",
        ("DELETE", false) => "DeleteObject",
        (method, _) => {
            call.operation = format!("Bucket{method}");
            call.action = format!("s3:Bucket{method}");
            call.resources.push(bucket.to_owned());
            return;
        }
    };
    call.operation = operation.to_owned();
    // IAM authorizes listings as s3:ListBucket, HEAD as s3:GetObject, batch deletes per
    // object, and every step of a multipart upload as s3:PutObject.
    let action = match operation {
        "ListObjectsV2" | "ListObjects" => "ListBucket",
        "HeadObject" => "GetObject",
        "DeleteObjects" => "DeleteObject",
        "CreateMultipartUpload" | "UploadPart" | "CompleteMultipartUpload" => "PutObject",
        "CopyObject" | "UploadPartCopy" => "PutObject",
        other => other,
    };
    call.action = format!("s3:{action}");
    if key.is_empty() {
        call.resources.push(bucket.to_owned());
        call.prefix = query
            .split('&')
            .find_map(|p| p.strip_prefix("prefix="))
            .map(percent_decode);
    } else {
        call.resources
            .push(format!("{bucket}/{}", percent_decode(key)));
    }
    // A copy writes its target and reads its source (`bucket/key`, possibly `?versionId=`).
    if let Some(source) = copy_source {
        let source = source.split_once('?').map_or(source.as_str(), |(s, _)| s);
        call.needs = call
            .resources
            .iter()
            .map(|r| Need {
                action: call.action.clone(),
                resource: r.clone(),
                partition_keys: Vec::new(),
            })
            .chain(std::iter::once(Need {
                action: "s3:GetObject".into(),
                resource: source.to_owned(),
                partition_keys: Vec::new(),
            }))
            .collect();
        call.resources.push(source.to_owned());
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::body::SdkBody;

    fn request(method: &str, uri: &str, target: Option<&str>, body: &str) -> HttpRequest {
        let mut b = http::Request::builder().method(method).uri(uri);
        if let Some(t) = target {
            b = b.header("x-amz-target", t);
        }
        let req = b
            .body(SdkBody::from(body.to_owned()))
            .expect("request builds");
        HttpRequest::try_from(req).expect("smithy request")
    }

    #[test]
    fn json_protocol_calls_are_named_as_iam_names_them() {
        let body = r#"{"TableName":"t","TransactItems":[{"Put":{"TableName":"t","Item":{"pk":{"S":"T#acme#M#1"}}}},{"Update":{"TableName":"t","Key":{"pk":{"S":"T#acme"},"sk":{"S":"x"}}}}]}"#;
        let req = request(
            "POST",
            "http://h/",
            Some("DynamoDB_20120810.TransactWriteItems"),
            body,
        );
        let call = describe("ApiFunction", &req, body);
        assert_eq!(call.action, "dynamodb:TransactWriteItems");
        assert_eq!(call.resources, vec!["t"]);
        assert_eq!(call.partition_keys, vec!["T#acme#M#1", "T#acme"]);
        let needs: Vec<(&str, &str)> = call
            .needs
            .iter()
            .map(|n| (n.action.as_str(), n.partition_keys[0].as_str()))
            .collect();
        assert_eq!(
            needs,
            vec![
                ("dynamodb:PutItem", "T#acme#M#1"),
                ("dynamodb:UpdateItem", "T#acme")
            ]
        );

        let body = r##"{"TableName":"t","IndexName":"gsi1","KeyConditionExpression":"#p0 = :v0 AND begins_with(#p1, :v1)","ExpressionAttributeNames":{"#p0":"gsi1pk","#p1":"gsi1sk"},"ExpressionAttributeValues":{":v0":{"S":"T#acme#CONV"},":v1":{"S":"x"}}}"##;
        let req = request("POST", "http://h/", Some("DynamoDB_20120810.Query"), body);
        let call = describe("ApiFunction", &req, body);
        assert_eq!(call.partition_keys, vec!["T#acme#CONV"]);
        assert_eq!(call.resources, vec!["t", "t/index/gsi1"]);

        let body = r#"{"QueueUrl":"http://q/1/in","Entries":[]}"#;
        let req = request(
            "POST",
            "http://h/",
            Some("AmazonSQS.SendMessageBatch"),
            body,
        );
        let call = describe("WebhookFunction", &req, body);
        assert_eq!(call.action, "sqs:SendMessage");
        assert_eq!(call.operation, "SendMessageBatch");
    }

    #[test]
    fn s3_calls_follow_from_method_and_path() {
        let list = request(
            "GET",
            "http://127.0.0.1:4566/b?list-type=2&prefix=quarantine%2F",
            None,
            "",
        );
        let call = describe("WebhookFunction", &list, "");
        assert_eq!(call.action, "s3:ListBucket");
        assert_eq!(call.prefix.as_deref(), Some("quarantine/"));
        let put = request(
            "PUT",
            "http://127.0.0.1:4566/b/quarantine/2026/x.json",
            None,
            "{}",
        );
        let call = describe("WebhookFunction", &put, "");
        assert_eq!(call.action, "s3:PutObject");
        assert_eq!(call.resources, vec!["b/quarantine/2026/x.json"]);
    }

    #[test]
    fn multipart_uploads_and_copies_are_authorized_as_iam_names_them() {
        let base = "http://127.0.0.1:4566/b/media/acme/msg_1";
        let named = |method: &str, query: &str| {
            let req = request(method, &format!("{base}{query}"), None, "");
            let call = describe("MediaFunction", &req, "");
            (call.operation, call.action)
        };
        let put = "s3:PutObject".to_owned();
        assert_eq!(
            named("POST", "?uploads"),
            ("CreateMultipartUpload".into(), put.clone())
        );
        assert_eq!(
            named("PUT", "?partNumber=2&uploadId=u1"),
            ("UploadPart".into(), put.clone())
        );
        assert_eq!(
            named("POST", "?uploadId=u1"),
            ("CompleteMultipartUpload".into(), put.clone())
        );
        assert_eq!(
            named("DELETE", "?uploadId=u1"),
            (
                "AbortMultipartUpload".into(),
                "s3:AbortMultipartUpload".into()
            )
        );
        assert_eq!(
            named("DELETE", ""),
            ("DeleteObject".into(), "s3:DeleteObject".into())
        );

        let copy = http::Request::builder()
            .method("PUT")
            .uri("http://127.0.0.1:4566/b/quarantine/media/acme/msg_1")
            .header("x-amz-copy-source", "b/media/acme/msg%5F1")
            .body(SdkBody::from(""))
            .expect("request builds");
        let copy = HttpRequest::try_from(copy).expect("smithy request");
        let call = describe("MediaFunction", &copy, "");
        assert_eq!(call.operation, "CopyObject");
        let needs: Vec<(&str, &str)> = call
            .needs
            .iter()
            .map(|n| (n.action.as_str(), n.resource.as_str()))
            .collect();
        assert_eq!(
            needs,
            vec![
                ("s3:PutObject", "b/quarantine/media/acme/msg_1"),
                ("s3:GetObject", "b/media/acme/msg_1"),
            ]
        );
    }

    #[test]
    fn a_fault_strikes_only_matching_calls_and_only_as_often_as_asked() {
        let recorder = AwsCallRecorder::default();
        recorder.inject(AwsFault {
            function: Some("OutboundFunction".into()),
            action: "dynamodb:UpdateItem".into(),
            body_contains: Some("COMPLETED".into()),
            phase: FaultPhase::AfterSend,
            times: 1,
        });
        let call = |function: &str, action: &str| AwsCall {
            function: function.into(),
            action: action.into(),
            operation: String::new(),
            resources: vec![],
            partition_keys: vec![],
            prefix: None,
            needs: vec![],
            capacity: None,
        };
        let update = "dynamodb:UpdateItem";
        assert_eq!(
            recorder.observe(call("ApiFunction", update), "COMPLETED"),
            None
        );
        assert_eq!(
            recorder.observe(call("OutboundFunction", update), "SENT"),
            None
        );
        assert_eq!(
            recorder.observe(call("OutboundFunction", update), "x COMPLETED"),
            Some(FaultPhase::AfterSend)
        );
        assert_eq!(
            recorder.observe(call("OutboundFunction", update), "COMPLETED"),
            None
        );
        assert_eq!(recorder.injected(), 1);
        assert_eq!(recorder.calls().len(), 4);
    }
}
