//! Delivering webhooks the way Meta does: signed with the app secret, retried while our endpoint
//! answers with an error.

use serde::{Deserialize, Serialize};
use std::time::Duration;
use switchboard_domain::Secret;
use switchboard_meta::signature;

/// Deliveries per webhook, counting the first, while our endpoint answers non-2xx. Meta keeps
/// retrying for hours; a few quick attempts show the same behaviour without slowing tests.
pub const WEBHOOK_ATTEMPTS: u32 = 3;
/// Wait before the second attempt; doubles after each further failure.
pub const WEBHOOK_RETRY_BACKOFF: Duration = Duration::from_millis(100);

/// Meta's crawler user agent, which some webhook endpoints look for.
const META_USER_AGENT: &str = "facebookexternalua";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryOutcome {
    /// The HTTP status of the last answer, if any attempt got one.
    pub status: Option<u16>,
    pub attempts: u32,
    /// Why the last attempt got no answer.
    pub error: Option<String>,
}

impl DeliveryOutcome {
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub backoff: Duration,
}

/// Posts `body` byte for byte, signed, until a 2xx answer or the attempts run out.
pub async fn deliver(
    http: &reqwest::Client,
    url: &str,
    app_secret: &Secret,
    body: &[u8],
    policy: RetryPolicy,
) -> DeliveryOutcome {
    let signature = signature::sign(app_secret.expose().as_bytes(), body);
    let attempts = policy.attempts.max(1);
    let mut backoff = policy.backoff;
    let mut outcome = DeliveryOutcome {
        status: None,
        attempts: 0,
        error: None,
    };
    for attempt in 1..=attempts {
        outcome.attempts = attempt;
        let answer = http
            .post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::USER_AGENT, META_USER_AGENT)
            .header(signature::HEADER, &signature)
            .body(body.to_vec())
            .send()
            .await;
        match answer {
            Ok(response) => {
                outcome.status = Some(response.status().as_u16());
                outcome.error = None;
            }
            Err(error) => {
                outcome.status = None;
                outcome.error = Some(error.to_string());
            }
        }
        if outcome.delivered() {
            break;
        }
        if attempt < attempts {
            tracing::debug!(
                url,
                attempt,
                status = outcome.status,
                "webhook not accepted, retrying"
            );
            tokio::time::sleep(backoff).await;
            backoff = backoff.saturating_mul(2);
        }
    }
    if !outcome.delivered() {
        tracing::warn!(
            url,
            attempts = outcome.attempts,
            status = outcome.status,
            error = outcome.error.as_deref(),
            "webhook not accepted"
        );
    }
    outcome
}
