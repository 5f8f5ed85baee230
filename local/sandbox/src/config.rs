//! How a sandbox presents itself: which business it pretends to be and where it sends webhooks.

use std::fmt;
use std::time::Duration;

/// Identities default to the ones in Meta's documented examples, so payloads look familiar.
pub const DEFAULT_PHONE_NUMBER_ID: &str = "106540352242922";
pub const DEFAULT_DISPLAY_PHONE_NUMBER: &str = "15550783881";
pub const DEFAULT_WABA_ID: &str = "102290129340398";
/// The Meta app the sandbox pretends to be; the code exchange checks `client_id` against it.
pub const DEFAULT_APP_ID: &str = "dev-app-id";
pub const DEFAULT_STATUS_DELAY: Duration = Duration::from_millis(200);

/// Secrets are plain strings here so a dev runner can fill the struct from its settings; `Debug`
/// redacts them.
#[derive(Clone)]
pub struct SandboxConfig {
    /// Signs every webhook (`X-Hub-Signature-256`), as Meta does with the app secret; the code
    /// exchange also checks `client_secret` against it.
    pub app_secret: String,
    /// The app's id: `client_id` of the code exchange, and the app that `subscribed_apps`
    /// subscribes.
    pub app_id: String,
    /// Where webhooks go; can be changed on a running sandbox.
    pub webhook_url: String,
    pub phone_number_id: String,
    pub display_phone_number: String,
    pub waba_id: String,
    /// Pause before each of `sent`, `delivered`, `read`.
    pub status_delay: Duration,
    pub send_statuses: bool,
    /// The Tech Provider's system token. When set, requests with a token that is neither this one
    /// nor a business token issued by a code exchange fail with Meta's code 190.
    pub expected_token: Option<String>,
}

impl SandboxConfig {
    pub fn new(app_secret: impl Into<String>, webhook_url: impl Into<String>) -> Self {
        Self {
            app_secret: app_secret.into(),
            app_id: DEFAULT_APP_ID.to_owned(),
            webhook_url: webhook_url.into(),
            phone_number_id: DEFAULT_PHONE_NUMBER_ID.to_owned(),
            display_phone_number: DEFAULT_DISPLAY_PHONE_NUMBER.to_owned(),
            waba_id: DEFAULT_WABA_ID.to_owned(),
            status_delay: DEFAULT_STATUS_DELAY,
            send_statuses: true,
            expected_token: None,
        }
    }
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("app_secret", &"[REDACTED]")
            .field("app_id", &self.app_id)
            .field("webhook_url", &self.webhook_url)
            .field("phone_number_id", &self.phone_number_id)
            .field("display_phone_number", &self.display_phone_number)
            .field("waba_id", &self.waba_id)
            .field("status_delay", &self.status_delay)
            .field("send_statuses", &self.send_statuses)
            .field(
                "expected_token",
                &self.expected_token.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let mut config = SandboxConfig::new("app-secret-value", "http://127.0.0.1:3000/webhooks");
        config.expected_token = Some("token-value".into());
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("app-secret-value") && !shown.contains("token-value"),
            "{shown}"
        );
        assert!(shown.contains("127.0.0.1:3000"));
    }
}
