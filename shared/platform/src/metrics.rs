//! Counters as CloudWatch Embedded Metric Format lines: CloudWatch turns a log line into a
//! metric with no API call on the hot path.

use serde_json::json;

pub const NAMESPACE: &str = "Switchboard";

/// Prints one EMF line with a single count metric and one dimension.
pub fn count(metric: &str, value: u64, dimension: (&str, &str)) {
    let (dim_name, dim_value) = dimension;
    let line = json!({
        "_aws": {
            "Timestamp": time::OffsetDateTime::now_utc().unix_timestamp() * 1000,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[dim_name]],
                "Metrics": [{"Name": metric, "Unit": "Count"}],
            }],
        },
        dim_name: dim_value,
        metric: value,
    });
    // EMF must be a line of its own on stdout, outside the tracing formatter.
    println!("{line}");
}
