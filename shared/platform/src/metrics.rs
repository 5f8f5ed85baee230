//! Metrics as CloudWatch Embedded Metric Format documents: CloudWatch turns a log line into
//! metrics with no API call on the hot path. After Powertools for AWS Lambda's Metrics
//! utility: a [`Metrics`] collector per invocation gathers named values with their unit and
//! flushes them as EMF documents (at most [`MAX_METRICS_PER_DOCUMENT`] metrics each) to a
//! [`MetricsSink`]: stdout in Lambda, memory in tests.
//!
//! The only dimension is `service` (the function). Never put a phone number, a message text or
//! a tenant secret in a dimension or a property; a tenant id may be a property (searchable in
//! the log line, not a dimension: one metric per tenant would be unbounded cardinality).

use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

pub const NAMESPACE: &str = "Switchboard";
/// The dimension every metric carries: which function emitted it.
pub const SERVICE_DIMENSION: &str = "service";
/// CloudWatch's limit on metric definitions per EMF document.
pub const MAX_METRICS_PER_DOCUMENT: usize = 100;
/// CloudWatch's limit on values per metric in one EMF document.
pub const MAX_VALUES_PER_METRIC: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Summed within an invocation.
    Count,
    /// Each value kept (a latency distribution), up to [`MAX_VALUES_PER_METRIC`] per document.
    Milliseconds,
    /// Each value kept, like milliseconds (a size distribution).
    Bytes,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::Bytes => "Bytes",
        }
    }
}

/// Where flushed EMF documents go.
pub trait MetricsSink: Send + Sync {
    fn write(&self, document: Value);
}

/// One line per document on stdout, where the Lambda runtime's log agent picks EMF up.
#[derive(Debug, Default, Clone, Copy)]
pub struct StdoutSink;

impl MetricsSink for StdoutSink {
    fn write(&self, document: Value) {
        // EMF must be a line of its own on stdout, outside the tracing formatter.
        println!("{document}");
    }
}

/// Keeps every flushed document, for tests and the dev runner. Clones share the documents.
#[derive(Debug, Default, Clone)]
pub struct InMemorySink {
    documents: Arc<Mutex<VecDeque<Value>>>,
}

/// The documents an [`InMemorySink`] keeps: the newest ones, so a long-running dev stack does
/// not grow without bound (a few hundred bytes each).
pub const IN_MEMORY_KEPT_DOCUMENTS: usize = 20_000;

impl InMemorySink {
    pub fn documents(&self) -> Vec<Value> {
        self.documents
            .lock()
            .map(|d| d.iter().cloned().collect())
            .unwrap_or_else(|poisoned| poisoned.into_inner().iter().cloned().collect())
    }

    /// The sum of every value of `metric` flushed by `service` so far.
    pub fn total(&self, service: &str, metric: &str) -> f64 {
        self.documents()
            .iter()
            .filter(|d| d.get(SERVICE_DIMENSION).and_then(Value::as_str) == Some(service))
            .filter_map(|d| d.get(metric))
            .map(|v| match v {
                Value::Array(values) => values.iter().filter_map(Value::as_f64).sum(),
                other => other.as_f64().unwrap_or_default(),
            })
            .sum()
    }
}

impl MetricsSink for InMemorySink {
    fn write(&self, document: Value) {
        let mut kept = self
            .documents
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if kept.len() >= IN_MEMORY_KEPT_DOCUMENTS {
            kept.pop_front();
        }
        kept.push_back(document);
    }
}

/// The sink a function's state holds unless a test or the dev runner replaces it.
pub fn stdout_sink() -> Arc<dyn MetricsSink> {
    Arc::new(StdoutSink)
}

/// One invocation's metrics. Dropping it without [`flush`](Self::flush) loses them.
pub struct Metrics {
    service: String,
    sink: Arc<dyn MetricsSink>,
    metrics: BTreeMap<String, (Unit, Vec<f64>)>,
    properties: Map<String, Value>,
}

impl Metrics {
    pub fn new(service: &str, sink: Arc<dyn MetricsSink>) -> Self {
        Self {
            service: service.to_owned(),
            sink,
            metrics: BTreeMap::new(),
            properties: Map::new(),
        }
    }

    /// Adds `value` to `name`: counts are summed, other units keep each value. A metric keeps
    /// the unit it was first added with.
    pub fn add(&mut self, name: &str, unit: Unit, value: f64) {
        let (unit, values) = self
            .metrics
            .entry(name.to_owned())
            .or_insert_with(|| (unit, Vec::new()));
        match (*unit, values.first_mut()) {
            (Unit::Count, Some(sum)) => *sum += value,
            _ => values.push(value),
        }
    }

    /// Takes in what `other` gathered (the part of a batch that ran concurrently) and leaves
    /// it empty, so only this one is flushed. Properties already set here win.
    pub fn absorb(&mut self, mut other: Metrics) {
        for (name, (unit, values)) in std::mem::take(&mut other.metrics) {
            for value in values {
                self.add(&name, unit, value);
            }
        }
        for (key, value) in std::mem::take(&mut other.properties) {
            self.properties.entry(key).or_insert(value);
        }
    }

    pub fn count(&mut self, name: &str, value: u64) {
        // Counts per invocation stay far below 2^53: exact as f64.
        self.add(name, Unit::Count, value as f64);
    }

    pub fn milliseconds(&mut self, name: &str, elapsed: std::time::Duration) {
        self.add(name, Unit::Milliseconds, elapsed.as_secs_f64() * 1000.0);
    }

    /// A searchable field of the line that is not a dimension (a tenant id, a request id).
    /// Never a phone number, a text or a secret.
    pub fn add_property(&mut self, key: &str, value: impl Into<Value>) {
        self.properties.insert(key.to_owned(), value.into());
    }

    pub fn is_empty(&self) -> bool {
        self.metrics.is_empty()
    }

    /// The EMF documents for what was added, stamped `timestamp_ms`; none when nothing was.
    pub fn documents(&self, timestamp_ms: i64) -> Vec<Value> {
        // A metric with more values than one document takes spreads over several rounds.
        let rounds = self
            .metrics
            .values()
            .map(|(_, v)| v.len().div_ceil(MAX_VALUES_PER_METRIC))
            .max()
            .unwrap_or(0);
        let mut documents = Vec::new();
        for round in 0..rounds {
            let entries: Vec<(&String, Unit, &[f64])> = self
                .metrics
                .iter()
                .filter_map(|(name, (unit, values))| {
                    values
                        .chunks(MAX_VALUES_PER_METRIC)
                        .nth(round)
                        .map(|chunk| (name, *unit, chunk))
                })
                .collect();
            for batch in entries.chunks(MAX_METRICS_PER_DOCUMENT) {
                documents.push(self.document(timestamp_ms, batch));
            }
        }
        documents
    }

    fn document(&self, timestamp_ms: i64, entries: &[(&String, Unit, &[f64])]) -> Value {
        let definitions: Vec<Value> = entries
            .iter()
            .map(|(name, unit, _)| json!({"Name": name, "Unit": unit.as_str()}))
            .collect();
        let mut document = self.properties.clone();
        for (name, _, values) in entries {
            let value = match values {
                [one] => json!(one),
                many => json!(many),
            };
            document.insert((*name).clone(), value);
        }
        document.insert(SERVICE_DIMENSION.to_owned(), json!(self.service));
        document.insert(
            "_aws".to_owned(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [[SERVICE_DIMENSION]],
                    "Metrics": definitions,
                }],
            }),
        );
        Value::Object(document)
    }

    /// Writes what was added to the sink and starts over; writes nothing when nothing was.
    pub fn flush(&mut self) {
        let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        let timestamp_ms = i64::try_from(now).unwrap_or_default();
        for document in self.documents(timestamp_ms) {
            self.sink.write(document);
        }
        self.metrics.clear();
        self.properties.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collector() -> (Metrics, InMemorySink) {
        let sink = InMemorySink::default();
        (Metrics::new("webhook", Arc::new(sink.clone())), sink)
    }

    #[test]
    fn a_document_is_valid_emf() {
        let (mut m, sink) = collector();
        m.count("EventsAccepted", 2);
        m.add("SendLatency", Unit::Milliseconds, 12.5);
        m.add_property("tenant_id", "t_1");
        m.flush();
        let docs = sink.documents();
        assert_eq!(docs.len(), 1, "{docs:?}");
        let doc = &docs[0];
        let aws = &doc["_aws"];
        assert!(aws["Timestamp"].as_i64().is_some_and(|t| t > 0), "{doc}");
        let directives = aws["CloudWatchMetrics"].as_array().expect("directives");
        assert_eq!(directives.len(), 1);
        let directive = &directives[0];
        assert_eq!(directive["Namespace"], "Switchboard");
        assert_eq!(directive["Dimensions"], json!([["service"]]));
        let mut defs = directive["Metrics"].as_array().expect("metrics").clone();
        defs.sort_by_key(|d| d["Name"].to_string());
        assert_eq!(
            defs,
            vec![
                json!({"Name": "EventsAccepted", "Unit": "Count"}),
                json!({"Name": "SendLatency", "Unit": "Milliseconds"}),
            ]
        );
        // Every dimension and metric named in the directive is a top-level member.
        assert_eq!(doc["service"], "webhook");
        assert_eq!(doc["EventsAccepted"], json!(2.0));
        assert_eq!(doc["SendLatency"], json!(12.5));
        assert_eq!(doc["tenant_id"], "t_1");
    }

    #[test]
    fn values_aggregate_within_an_invocation() {
        let (mut m, sink) = collector();
        m.count("MessagesSent", 1);
        m.count("MessagesSent", 1);
        m.count("MessagesSent", 3);
        m.add("SendLatency", Unit::Milliseconds, 10.0);
        m.add("SendLatency", Unit::Milliseconds, 30.0);
        m.flush();
        let docs = sink.documents();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0]["MessagesSent"], json!(5.0));
        assert_eq!(docs[0]["SendLatency"], json!([10.0, 30.0]));
        assert_eq!(sink.total("webhook", "MessagesSent"), 5.0);
        assert_eq!(sink.total("webhook", "SendLatency"), 40.0);
    }

    #[test]
    fn absorbed_parts_flush_once_with_the_whole() {
        let (mut whole, sink) = collector();
        whole.count("MessagesSent", 1);
        let mut part = Metrics::new("webhook", Arc::new(sink.clone()));
        part.count("MessagesSent", 2);
        part.add("SendLatency", Unit::Milliseconds, 7.0);
        whole.absorb(part);
        whole.flush();
        let docs = sink.documents();
        assert_eq!(docs.len(), 1, "{docs:?}");
        assert_eq!(docs[0]["MessagesSent"], json!(3.0));
        assert_eq!(docs[0]["SendLatency"], json!(7.0));
    }

    #[test]
    fn more_than_100_metrics_split_into_several_documents() {
        let (mut m, sink) = collector();
        for i in 0..250 {
            m.count(&format!("Metric{i:03}"), 1);
        }
        m.flush();
        let docs = sink.documents();
        let sizes: Vec<usize> = docs
            .iter()
            .map(|d| {
                d["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                    .as_array()
                    .map_or(0, Vec::len)
            })
            .collect();
        assert_eq!(sizes, vec![100, 100, 50]);
        for doc in &docs {
            assert_eq!(doc["service"], "webhook");
            for def in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let name = def["Name"].as_str().expect("name");
                assert_eq!(doc[name], json!(1.0), "{name}");
            }
        }
        let names: std::collections::HashSet<String> = docs
            .iter()
            .flat_map(|d| d.as_object().into_iter().flat_map(|o| o.keys().cloned()))
            .filter(|k| k.starts_with("Metric"))
            .collect();
        assert_eq!(names.len(), 250);
    }

    #[test]
    fn more_than_100_values_of_a_metric_split_too() {
        let (mut m, sink) = collector();
        for i in 0..150 {
            m.add("SendLatency", Unit::Milliseconds, f64::from(i));
        }
        m.count("MessagesSent", 150);
        m.flush();
        let docs = sink.documents();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0]["SendLatency"].as_array().map(Vec::len), Some(100));
        assert_eq!(docs[1]["SendLatency"].as_array().map(Vec::len), Some(50));
        assert_eq!(sink.total("webhook", "MessagesSent"), 150.0);
    }

    #[test]
    fn an_empty_collector_flushes_nothing() {
        let (mut m, sink) = collector();
        m.add_property("tenant_id", "t_1");
        m.flush();
        assert!(sink.documents().is_empty());
    }

    #[test]
    fn a_flush_starts_over() {
        let (mut m, sink) = collector();
        m.count("EventsAccepted", 1);
        m.flush();
        m.flush();
        assert_eq!(sink.documents().len(), 1);
    }
}
