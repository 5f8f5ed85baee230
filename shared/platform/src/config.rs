//! Function configuration, read once at init from environment variables whose names
//! template.yaml defines. The dev runner passes the same variables, resolved from the same
//! template, as a map.

use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ConfigError {
    #[error("missing environment variable {0}")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Everything a function needs to find its resources. Secrets are not here: only the id of the
/// secret that holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub table_name: String,
    pub inbound_queue_url: String,
    pub outbound_queue_url: String,
    pub data_bucket: String,
    pub meta_secret_id: String,
    /// The secret that signs the API's page cursors (`CURSOR_SECRET_ID`); only the API has it.
    pub cursor_secret_id: Option<String>,
    /// The secret that signs access tokens (`ACCESS_TOKEN_SECRET_ID`); only the API has it.
    pub access_token_secret_id: Option<String>,
    /// The secret holding the platform operator's key (`OPERATOR_SECRET_ID`); only the API
    /// has it, and without it the operator routes are closed.
    pub operator_secret_id: Option<String>,
    /// The KMS key the token vault seals tenants' Meta tokens with (`TOKEN_KEY_ID`).
    pub token_key_id: Option<String>,
    /// The Meta app's id (`META_APP_ID`), for exchanging Embedded Signup codes.
    pub meta_app_id: Option<String>,
    /// Origins the agent console is served from (`CONSOLE_ORIGINS`, comma-separated).
    pub console_origins: Vec<String>,
    pub graph_api_base_url: String,
    pub graph_api_version: String,
    pub outbound_retry_base: Duration,
    /// The queue of media jobs (`MEDIA_QUEUE_URL`): the inbound function queues one per
    /// media message; without it no media is fetched.
    pub media_queue_url: Option<String>,
    /// The KMS key media objects are encrypted with (`MEDIA_KEY_ID`); S3's own `aws/s3` key
    /// when unset.
    pub media_key_id: Option<String>,
    /// A consumer's own dead-letter queue (`DEAD_LETTER_QUEUE_URL`) and its source queue's
    /// `maxReceiveCount` (`MAX_RECEIVES`): the last failure goes there with its reason.
    pub dead_letters: Option<(String, u32)>,
    /// The dead-letter queues the operations function lists and redrives, by name
    /// (`INBOUND_DEAD_LETTER_QUEUE_URL`, `OUTBOUND_DEAD_LETTER_QUEUE_URL`,
    /// `MEDIA_DEAD_LETTER_QUEUE_URL`).
    pub dead_letter_queues: BTreeMap<&'static str, String>,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_map(vars: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        Self::from_lookup(|name| vars.get(name).cloned())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            get(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let retry_base = match get("OUTBOUND_RETRY_BASE_SECONDS") {
            None => Duration::from_secs(5),
            Some(v) => v
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| ConfigError::Invalid {
                    name: "OUTBOUND_RETRY_BASE_SECONDS",
                    reason: "expected a non-negative number of seconds".into(),
                })?,
        };
        let dead_letters = match (
            get("DEAD_LETTER_QUEUE_URL").filter(|v| !v.trim().is_empty()),
            get("MAX_RECEIVES"),
        ) {
            (None, _) => None,
            (Some(url), receives) => {
                let receives = receives
                    .as_deref()
                    .map(str::trim)
                    .and_then(|n| n.parse::<u32>().ok())
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| ConfigError::Invalid {
                        name: "MAX_RECEIVES",
                        reason: "a dead-letter queue needs its source queue's maxReceiveCount, a positive integer".into(),
                    })?;
                Some((url, receives))
            }
        };
        let dead_letter_queues = [
            ("inbound", "INBOUND_DEAD_LETTER_QUEUE_URL"),
            ("outbound", "OUTBOUND_DEAD_LETTER_QUEUE_URL"),
            ("media", "MEDIA_DEAD_LETTER_QUEUE_URL"),
        ]
        .into_iter()
        .filter_map(|(name, var)| {
            get(var)
                .filter(|v| !v.trim().is_empty())
                .map(|url| (name, url))
        })
        .collect();
        Ok(Self {
            table_name: required("TABLE_NAME")?,
            inbound_queue_url: required("INBOUND_QUEUE_URL")?,
            outbound_queue_url: required("OUTBOUND_QUEUE_URL")?,
            data_bucket: required("DATA_BUCKET")?,
            meta_secret_id: required("META_SECRET_ID")?,
            cursor_secret_id: get("CURSOR_SECRET_ID").filter(|v| !v.trim().is_empty()),
            access_token_secret_id: get("ACCESS_TOKEN_SECRET_ID").filter(|v| !v.trim().is_empty()),
            operator_secret_id: get("OPERATOR_SECRET_ID").filter(|v| !v.trim().is_empty()),
            token_key_id: get("TOKEN_KEY_ID").filter(|v| !v.trim().is_empty()),
            meta_app_id: get("META_APP_ID").filter(|v| !v.trim().is_empty()),
            console_origins: get("CONSOLE_ORIGINS")
                .unwrap_or_default()
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            graph_api_base_url: get("GRAPH_API_BASE_URL")
                .unwrap_or_else(|| "https://graph.facebook.com".into())
                .trim_end_matches('/')
                .to_owned(),
            graph_api_version: get("GRAPH_API_VERSION").unwrap_or_else(|| "v23.0".into()),
            outbound_retry_base: retry_base,
            media_queue_url: get("MEDIA_QUEUE_URL").filter(|v| !v.trim().is_empty()),
            media_key_id: get("MEDIA_KEY_ID").filter(|v| !v.trim().is_empty()),
            dead_letters,
            dead_letter_queues,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        [
            ("TABLE_NAME", "t"),
            ("INBOUND_QUEUE_URL", "http://q/in"),
            ("OUTBOUND_QUEUE_URL", "http://q/out.fifo"),
            ("DATA_BUCKET", "b"),
            ("META_SECRET_ID", "s"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn reads_required_and_defaults() {
        let c = Config::from_map(&vars()).expect("valid");
        assert_eq!(c.table_name, "t");
        assert_eq!(c.graph_api_version, "v23.0");
        assert_eq!(c.outbound_retry_base, Duration::from_secs(5));
        assert_eq!(c.cursor_secret_id, None);
        let mut v = vars();
        v.insert("CURSOR_SECRET_ID".into(), "arn:cursor".into());
        let c = Config::from_map(&v).expect("valid");
        assert_eq!(c.cursor_secret_id.as_deref(), Some("arn:cursor"));
        assert_eq!(c.operator_secret_id, None);
        v.insert("OPERATOR_SECRET_ID".into(), "arn:operator".into());
        let c = Config::from_map(&v).expect("valid");
        assert_eq!(c.operator_secret_id.as_deref(), Some("arn:operator"));
    }

    #[test]
    fn names_the_missing_variable() {
        let mut v = vars();
        v.remove("TABLE_NAME");
        let err = Config::from_map(&v).expect_err("missing");
        assert_eq!(err.to_string(), "missing environment variable TABLE_NAME");
    }

    #[test]
    fn rejects_a_bad_retry_base() {
        let mut v = vars();
        v.insert("OUTBOUND_RETRY_BASE_SECONDS".into(), "-1".into());
        assert!(Config::from_map(&v).is_err());
        v.insert("OUTBOUND_RETRY_BASE_SECONDS".into(), "0.5".into());
        let c = Config::from_map(&v).expect("valid");
        assert_eq!(c.outbound_retry_base, Duration::from_millis(500));
    }
}
