//! Why a webhook body is not a notification. Messages never quote the body: it carries
//! customers' personal data and ends up in logs and quarantine reasons.

use std::fmt;

/// The body cannot be treated as a WhatsApp Business Account notification at all.
/// Anything smaller (an unknown field, an odd message) is never an error: it is kept raw.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct ParseError {
    kind: ParseErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// Not syntactically valid JSON (or truncated).
    NotJson { line: usize, column: usize },
    /// A top-level member every notification has is absent.
    Missing(&'static str),
    /// Valid JSON whose structure is not a notification, e.g. `entry` is not an array.
    Malformed { line: usize, column: usize },
    /// A notification about another kind of object (a Page, Instagram, …).
    OtherObject,
}

impl ParseError {
    pub fn kind(&self) -> ParseErrorKind {
        self.kind
    }

    pub(crate) fn missing(member: &'static str) -> Self {
        Self {
            kind: ParseErrorKind::Missing(member),
        }
    }

    /// Where the first invalid byte sits, in the same terms serde_json reports positions.
    pub(crate) fn not_utf8(body: &[u8], e: std::str::Utf8Error) -> Self {
        let valid = body.get(..e.valid_up_to()).unwrap_or_default();
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = valid.len() - valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) + 1;
        Self {
            kind: ParseErrorKind::NotJson { line, column },
        }
    }

    pub(crate) fn other_object() -> Self {
        Self {
            kind: ParseErrorKind::OtherObject,
        }
    }
}

impl From<serde_json::Error> for ParseError {
    /// Keeps only the category and position: serde_json's own message can quote values.
    fn from(e: serde_json::Error) -> Self {
        let (line, column) = (e.line(), e.column());
        let kind = if e.is_data() {
            ParseErrorKind::Malformed { line, column }
        } else {
            ParseErrorKind::NotJson { line, column }
        };
        Self { kind }
    }
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseErrorKind::NotJson { line, column } => {
                write!(
                    f,
                    "webhook body is not valid JSON (line {line}, column {column})"
                )
            }
            ParseErrorKind::Missing(member) => {
                write!(
                    f,
                    "webhook body is not a notification: no `{member}` member"
                )
            }
            ParseErrorKind::Malformed { line, column } => write!(
                f,
                "webhook body is not a notification: unexpected structure at line {line}, column {column}"
            ),
            ParseErrorKind::OtherObject => {
                f.write_str("webhook notification is not about a whatsapp_business_account")
            }
        }
    }
}
