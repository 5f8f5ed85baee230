//! Which Graph API error codes are worth retrying.
//!
//! Meta asks integrations to branch on `error.code` (not on subcodes, titles or HTTP statuses), so
//! the table below is keyed by code. Codes that are not listed fall back to Meta's `is_transient`
//! hint and then to the HTTP status (see [`super::GraphError::class`]).

use std::time::Duration;

/// What a known code means for the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeClass {
    /// Meta-side trouble or a rate limit: the same request can succeed later. `after` is the
    /// shortest wait that has a chance to succeed, where Meta documents one.
    Retryable { after: Option<Duration> },
    /// The request itself, the token, the recipient or the account must change first.
    Permanent,
}

/// One row of the table: the code, Meta's title for it, and what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownCode {
    pub code: i64,
    pub title: &'static str,
    pub class: CodeClass,
}

const fn retry(code: i64, title: &'static str) -> KnownCode {
    KnownCode {
        code,
        title,
        class: CodeClass::Retryable { after: None },
    }
}

const fn retry_after(code: i64, title: &'static str, seconds: u64) -> KnownCode {
    KnownCode {
        code,
        title,
        class: CodeClass::Retryable {
            after: Some(Duration::from_secs(seconds)),
        },
    }
}

const fn permanent(code: i64, title: &'static str) -> KnownCode {
    KnownCode {
        code,
        title,
        class: CodeClass::Permanent,
    }
}

/// Codes from Meta's Cloud API error reference that the send path can meet.
///
/// Choices that are not obvious from the title:
/// - 1 (API Unknown) means "invalid request or possible server error"; it is retried because the
///   queue's attempt limit bounds the cost when it was the request after all.
/// - 3 (API Method) arrives with HTTP 500 but is a capability/permission problem: permanent.
/// - 4 and 80007 are rolling-window rate limits (app, WABA): wait a minute before trying again.
/// - 131056 (pair rate limit) is Meta's limit on messages to one user in a short time; about one
///   message every 6 seconds gets through.
/// - 131048 (spam rate limit) is a quality restriction on the number: retrying does not lift it and
///   further sends hurt the number's quality, so it is permanent.
/// - 131057 (account in maintenance mode) happens during throughput upgrades and passes.
/// - 131049 is Meta's per-user marketing limit: sending the same message again soon fails the
///   same way, so it is permanent; the business may try a later campaign.
/// - 132xxx are template errors (missing, paused, disabled, parameters that do not fit): the
///   template or the request must change, whatever the code within the range.
pub const KNOWN_CODES: &[KnownCode] = &[
    // Meta-side failures.
    retry(1, "API Unknown"),
    retry(2, "API Service"),
    retry(131000, "Something went wrong"),
    retry(131016, "Service unavailable"),
    retry(131057, "Account in maintenance mode"),
    retry(133004, "Server temporarily unavailable"),
    // Rate limits.
    retry_after(4, "API Too Many Calls", 60),
    retry_after(80007, "Rate limit issues", 60),
    retry_after(130429, "Rate limit hit", 1),
    retry_after(
        131056,
        "(Business Account, Consumer Account) pair rate limit hit",
        6,
    ),
    retry_after(
        133016,
        "Account register deregister rate limit exceeded",
        60,
    ),
    // Authorization: the token or the app's permissions must change.
    permanent(0, "AuthException"),
    permanent(3, "API Method"),
    permanent(10, "Permission Denied"),
    permanent(190, "Access token has expired"),
    // Integrity and account state.
    permanent(368, "Temporarily blocked for policies violations"),
    permanent(
        130497,
        "Business account is restricted from messaging users in this country",
    ),
    permanent(131031, "Account has been locked"),
    permanent(131042, "Business eligibility payment issue"),
    permanent(131048, "Spam rate limit hit"),
    permanent(
        131049,
        "This message was not delivered to maintain healthy ecosystem engagement",
    ),
    // The request, the recipient or the conversation state.
    permanent(33, "Parameter value is not valid"),
    permanent(100, "Invalid parameter"),
    permanent(130472, "User's number is part of an experiment"),
    permanent(131005, "Access denied"),
    permanent(131008, "Required parameter is missing"),
    permanent(131009, "Parameter value is not valid"),
    permanent(131021, "Recipient cannot be sender"),
    permanent(131026, "Message undeliverable"),
    permanent(131030, "Recipient phone number not in allowed list"),
    permanent(
        131037,
        "WhatsApp provided number needs display name approval",
    ),
    permanent(131045, "Incorrect certificate"),
    permanent(131047, "Re-engagement message"),
    permanent(131051, "Unsupported message type"),
    permanent(131052, "Media download error"),
    permanent(131053, "Media upload error"),
    permanent(
        131062,
        "Business-scoped User ID recipients are not supported for this message",
    ),
    permanent(132000, "Template Param Count Mismatch"),
    permanent(132001, "Template does not exist"),
    permanent(132005, "Template Hydrated Text Too Long"),
    permanent(132007, "Template Format Character Policy Violated"),
    permanent(132012, "Template Parameter Format Mismatch"),
    permanent(132015, "Template is Paused"),
    permanent(132016, "Template is Disabled"),
    permanent(133010, "Phone number Not Registered"),
];

/// The class Meta's documentation gives `code`, or `None` for a code the table does not know.
/// Permission errors 200–299 share one meaning, as do template errors 132000–132999: both are
/// matched as ranges after the table.
pub fn class_of_code(code: i64) -> Option<CodeClass> {
    if let Some(known) = KNOWN_CODES.iter().find(|known| known.code == code) {
        return Some(known.class);
    }
    if (200..=299).contains(&code) || (132_000..=132_999).contains(&code) {
        return Some(CodeClass::Permanent);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn is_retryable(code: i64) -> bool {
        matches!(class_of_code(code), Some(CodeClass::Retryable { .. }))
    }

    #[test]
    fn meta_side_failures_and_rate_limits_are_retryable() {
        for code in [
            1, 2, 4, 80007, 130429, 131000, 131016, 131056, 131057, 133004,
        ] {
            assert!(is_retryable(code), "code {code} should be retryable");
        }
    }

    #[test]
    fn request_recipient_and_token_problems_are_permanent() {
        for code in [
            0, 3, 10, 100, 190, 200, 250, 299, 368, 131026, 131030, 131047, 131048, 131049, 131051,
            132001, 132068, 132999,
        ] {
            assert_eq!(
                class_of_code(code),
                Some(CodeClass::Permanent),
                "code {code}"
            );
        }
    }

    #[test]
    fn rate_limits_carry_the_documented_wait() {
        let wait = |code| match class_of_code(code) {
            Some(CodeClass::Retryable { after }) => after,
            other => panic!("code {code} classified {other:?}"),
        };
        assert_eq!(wait(131056), Some(Duration::from_secs(6)));
        assert_eq!(wait(130429), Some(Duration::from_secs(1)));
        assert_eq!(wait(4), Some(Duration::from_secs(60)));
        assert_eq!(wait(131000), None);
    }

    #[test]
    fn unknown_codes_are_left_to_the_caller() {
        assert_eq!(class_of_code(999_999), None);
        assert_eq!(class_of_code(300), None);
    }

    #[test]
    fn every_code_appears_once() {
        let mut seen = HashSet::new();
        for known in KNOWN_CODES {
            assert!(seen.insert(known.code), "code {} listed twice", known.code);
        }
    }
}
