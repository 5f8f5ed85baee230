//! What can go wrong calling the Graph API, and whether to try again.

use super::classify::{CodeClass, class_of_code};
use std::fmt;
use std::time::Duration;

/// Whether a failed call may succeed if repeated unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Try again, no sooner than `after` when it is set.
    Retryable { after: Option<Duration> },
    /// Repeating the same call will fail the same way.
    Permanent,
}

impl ErrorClass {
    pub fn is_retryable(&self) -> bool {
        matches!(self, ErrorClass::Retryable { .. })
    }
}

/// How a request failed before Meta answered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// No answer within the client's timeout. Meta may still have accepted the message.
    Timeout,
    /// The connection could not be opened.
    Connect,
    /// The request could not be built (for example an invalid base URL).
    Request,
    /// Anything else on the way: reset connections, broken bodies, redirects.
    Other,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Timeout => "timeout",
            TransportKind::Connect => "connect",
            TransportKind::Request => "request",
            TransportKind::Other => "transport",
        })
    }
}

/// A failed Graph API call. Messages may be logged: they come from Meta or from the transport and
/// never contain the access token (the client scrubs it from Meta's text, see `client.rs`).
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// Meta answered with its error object.
    #[error("Graph API error {code} (HTTP {http_status}): {message}")]
    Api {
        http_status: u16,
        code: i64,
        subcode: Option<i64>,
        /// `error.message`, e.g. "(#131047) Re-engagement message".
        message: String,
        /// `error.error_data.details`: Meta's explanation of the likely cause.
        details: Option<String>,
        /// Meta's own hint, present on some errors.
        is_transient: Option<bool>,
        /// The `Retry-After` header, when Meta sent one.
        retry_after: Option<Duration>,
        fbtrace_id: Option<String>,
    },
    /// The request never got an answer.
    #[error("Graph API request failed ({kind}): {source}")]
    Transport {
        kind: TransportKind,
        #[source]
        source: reqwest::Error,
    },
    /// An error status without Meta's error object, e.g. an HTML page from a proxy.
    #[error("Graph API answered HTTP {http_status} without an error object: {body_excerpt}")]
    UnexpectedResponse {
        http_status: u16,
        body_excerpt: String,
    },
    /// A success status whose body could not be read as the documented response.
    #[error("Graph API accepted the request but its answer could not be read: {reason}")]
    Decode { http_status: u16, reason: String },
    /// The call was refused before sending because an argument cannot be right.
    #[error("invalid Graph API request: {0}")]
    InvalidRequest(&'static str),
}

impl GraphError {
    /// Meta's `error.code`, when Meta answered with one.
    pub fn code(&self) -> Option<i64> {
        match self {
            GraphError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Meta's `error.error_subcode`. Meta deprecated subcodes for WhatsApp errors, but the OAuth
    /// endpoints still use them (e.g. 36009, "This authorization code has been used").
    pub fn subcode(&self) -> Option<i64> {
        match self {
            GraphError::Api { subcode, .. } => *subcode,
            _ => None,
        }
    }

    /// The HTTP status Meta answered with, if it answered.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            GraphError::Api { http_status, .. }
            | GraphError::UnexpectedResponse { http_status, .. }
            | GraphError::Decode { http_status, .. } => Some(*http_status),
            GraphError::Transport { .. } | GraphError::InvalidRequest(_) => None,
        }
    }

    /// Whether the queues should try this call again.
    ///
    /// Meta's documented meaning of the code wins; a code the table does not know falls back to
    /// Meta's `is_transient` flag, then to the HTTP status (5xx, 429 and 408 retry). Timeouts retry
    /// even though Meta may have accepted the message: losing a reply is worse than the rare
    /// duplicate. An unreadable success answer does not retry, because Meta did accept something.
    /// Whether Meta may have accepted the request although we hold no answer saying so: a
    /// timeout or a broken connection after the request went out, a gateway's error page, or
    /// a success we could not read. Sending again could deliver the message twice.
    pub fn may_have_been_applied(&self) -> bool {
        match self {
            GraphError::Transport { kind, .. } => {
                matches!(kind, TransportKind::Timeout | TransportKind::Other)
            }
            GraphError::UnexpectedResponse { http_status, .. } => *http_status >= 500,
            GraphError::Decode { http_status, .. } => (200..300).contains(http_status),
            GraphError::Api { .. } | GraphError::InvalidRequest(_) => false,
        }
    }

    pub fn class(&self) -> ErrorClass {
        match self {
            GraphError::Api {
                http_status,
                code,
                is_transient,
                retry_after,
                ..
            } => {
                let class = match class_of_code(*code) {
                    Some(CodeClass::Retryable { after }) => ErrorClass::Retryable { after },
                    Some(CodeClass::Permanent) => ErrorClass::Permanent,
                    None if *is_transient == Some(true) => ErrorClass::Retryable { after: None },
                    None if *is_transient == Some(false) => ErrorClass::Permanent,
                    None => class_of_status(*http_status),
                };
                with_retry_after(class, *retry_after)
            }
            GraphError::Transport { kind, .. } => match kind {
                TransportKind::Request => ErrorClass::Permanent,
                TransportKind::Timeout | TransportKind::Connect | TransportKind::Other => {
                    ErrorClass::Retryable { after: None }
                }
            },
            GraphError::UnexpectedResponse { http_status, .. } => class_of_status(*http_status),
            GraphError::Decode { .. } | GraphError::InvalidRequest(_) => ErrorClass::Permanent,
        }
    }
}

fn class_of_status(http_status: u16) -> ErrorClass {
    if http_status >= 500 || http_status == 429 || http_status == 408 {
        ErrorClass::Retryable { after: None }
    } else {
        ErrorClass::Permanent
    }
}

/// A `Retry-After` header lengthens the wait the code implies; it never makes a permanent error
/// retryable.
fn with_retry_after(class: ErrorClass, retry_after: Option<Duration>) -> ErrorClass {
    match (class, retry_after) {
        (ErrorClass::Retryable { after }, Some(header)) => ErrorClass::Retryable {
            after: Some(after.map_or(header, |after| after.max(header))),
        },
        (class, _) => class,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(http_status: u16, code: i64) -> GraphError {
        GraphError::Api {
            http_status,
            code,
            subcode: None,
            message: format!("(#{code}) test"),
            details: None,
            is_transient: None,
            retry_after: None,
            fbtrace_id: None,
        }
    }

    #[test]
    fn the_code_decides_over_the_http_status() {
        // 131047 with a 500 would still be a closed window, and 3 arrives as HTTP 500.
        assert_eq!(api(500, 131047).class(), ErrorClass::Permanent);
        assert_eq!(api(500, 3).class(), ErrorClass::Permanent);
        assert!(api(400, 131056).class().is_retryable());
        assert_eq!(api(400, 131047).code(), Some(131047));
    }

    #[test]
    fn unknown_codes_follow_is_transient_then_the_status() {
        let mut transient = api(400, 987_654);
        if let GraphError::Api { is_transient, .. } = &mut transient {
            *is_transient = Some(true);
        }
        assert!(transient.class().is_retryable());
        assert!(api(503, 987_654).class().is_retryable());
        assert!(api(429, 987_654).class().is_retryable());
        assert_eq!(api(400, 987_654).class(), ErrorClass::Permanent);
    }

    #[test]
    fn retry_after_lengthens_but_never_shortens_or_revives() {
        let with_header = |code, secs| {
            let mut e = api(429, code);
            if let GraphError::Api { retry_after, .. } = &mut e {
                *retry_after = Some(Duration::from_secs(secs));
            }
            e.class()
        };
        assert_eq!(
            with_header(131056, 30),
            ErrorClass::Retryable {
                after: Some(Duration::from_secs(30))
            }
        );
        assert_eq!(
            with_header(131056, 1),
            ErrorClass::Retryable {
                after: Some(Duration::from_secs(6))
            }
        );
        assert_eq!(with_header(190, 30), ErrorClass::Permanent);
    }

    #[test]
    fn answers_without_meta_error_object_classify_by_status() {
        let proxy = |status| GraphError::UnexpectedResponse {
            http_status: status,
            body_excerpt: "<html>".into(),
        };
        assert!(proxy(502).class().is_retryable());
        assert_eq!(proxy(404).class(), ErrorClass::Permanent);
        let decode = GraphError::Decode {
            http_status: 200,
            reason: "missing messages[0].id".into(),
        };
        assert_eq!(decode.class(), ErrorClass::Permanent);
        assert_eq!(decode.code(), None);
    }
}
