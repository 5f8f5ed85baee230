//! Meta Embedded Signup, server side: the business finishes Meta's signup popup and the front end
//! hands us `{code, waba_id, phone_number_id, pin?}`. With those we
//! 1. exchange the code for the business token (`GET /oauth/access_token`),
//! 2. subscribe our app to the WABA's webhooks (`POST /{waba-id}/subscribed_apps`),
//! 3. register the number for Cloud API with its two-step verification PIN
//!    (`POST /{phone-number-id}/register`),
//! 4. read the number's display data (`GET /{phone-number-id}?fields=...`).
//!
//! Failures are ordinary [`GraphError`]s; [`OnboardingFailure`] names the ones a signup screen
//! has to tell apart.
//!
//! The app secret, the code and the token are all secrets. None of them is logged, and none
//! reaches an error: Meta's texts are scrubbed of them, and transport errors lose their URL
//! because the exchange carries the secret and the code in its query.

use super::client::{GraphClient, api_error};
use super::error::GraphError;
use reqwest::Url;
use serde::Deserialize;
use switchboard_domain::Secret;

/// The fields [`GraphClient::phone_number`] asks for.
pub const PHONE_NUMBER_FIELDS: &str = "display_phone_number,verified_name,quality_rating,throughput,code_verification_status,name_status";

/// What Meta tells about a business phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumberInfo {
    /// Meta's phone number id, as echoed in the answer.
    pub id: String,
    /// As the customer sees it, e.g. `+1 555-078-3881`.
    pub display_phone_number: String,
    pub verified_name: String,
    /// `GREEN`, `YELLOW`, `RED` or `UNKNOWN`.
    pub quality_rating: Option<String>,
    /// `throughput.level`: `STANDARD`, `HIGH` or `NOT_APPLICABLE`.
    pub throughput_level: Option<String>,
    /// `VERIFIED`, `NOT_VERIFIED`, `EXPIRED`...: whether the ownership of the number is proven.
    pub code_verification_status: Option<String>,
    /// Review state of the display name: `APPROVED`, `PENDING_REVIEW`, `DECLINED`...
    pub name_status: Option<String>,
}

/// The onboarding failures a caller has to tell apart, read from Meta's code (and, for the
/// OAuth endpoint, its subcode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnboardingFailure {
    /// The signup code is malformed or unknown: code 100 on the exchange, without a subcode or
    /// with 36008 (the code does not validate). The business has to sign up again.
    CodeInvalid,
    /// The signup code expired (code 100, subcode 36007); codes live about ten minutes.
    CodeExpired,
    /// The signup code was exchanged before (code 100, subcode 36009). Codes are single-use: a
    /// second exchange of a code means a replayed or double-submitted signup.
    CodeUsed,
    /// Our app id or secret is wrong: code 101 ("Error validating application"), or code 1
    /// ("Error validating client secret") on the exchange. A configuration error, not the
    /// business's.
    InvalidAppCredentials,
    /// The access token is invalid, expired or revoked (190), or missing (104), or its session
    /// is gone (102).
    InvalidToken,
    /// The token is valid but may not touch this WABA or number: codes 10 and 200–299, or code
    /// 100 with subcode 33 ("Object with ID ... does not exist, cannot be loaded due to missing
    /// permissions, or does not support this operation"), which is what a token of another
    /// business gets.
    NoAccess,
    /// The two-step verification PIN is not the number's (133005).
    PinMismatch,
    /// Too many registration attempts or PIN guesses for this number: 133016 (at most 10
    /// register calls per number in 72 hours; the number is then blocked), 133008 (too many PIN
    /// guesses) or 133009 (PIN guessed too fast). Wait; do not retry right away.
    TooManyAttempts,
    /// The number is in use elsewhere, e.g. still registered on the On-Premises API or with
    /// another solution partner, and must be verified again (migrated) before it can be
    /// registered here (133006, "Phone number re-verification needed").
    NumberInUseElsewhere,
    /// The number is not registered on the Cloud API (133010): register it first. Not the same
    /// as [`Self::NumberInUseElsewhere`].
    NumberNotRegistered,
}

impl OnboardingFailure {
    /// Classifies any Graph error of the onboarding calls (and sends). `None` for anything that
    /// is not one of the failures above: those follow [`GraphError::class`].
    pub fn of(error: &GraphError) -> Option<Self> {
        let code = error.code()?;
        let subcode = error.subcode();
        Some(match (code, subcode) {
            (100, Some(36007)) => OnboardingFailure::CodeExpired,
            (100, Some(36009)) => OnboardingFailure::CodeUsed,
            (100, Some(36008)) => OnboardingFailure::CodeInvalid,
            (100, Some(33)) | (10, _) => OnboardingFailure::NoAccess,
            (200..=299, _) => OnboardingFailure::NoAccess,
            (101, _) => OnboardingFailure::InvalidAppCredentials,
            (102 | 104 | 190, _) => OnboardingFailure::InvalidToken,
            (133005, _) => OnboardingFailure::PinMismatch,
            (133008 | 133009 | 133016, _) => OnboardingFailure::TooManyAttempts,
            (133006, _) => OnboardingFailure::NumberInUseElsewhere,
            (133010, _) => OnboardingFailure::NumberNotRegistered,
            _ => return None,
        })
    }

    /// [`Self::of`] for an error of [`GraphClient::exchange_code`], where code 100 without a
    /// subcode can only be about the code and code 1 is Meta's answer to a wrong client secret.
    pub fn of_exchange(error: &GraphError) -> Option<Self> {
        match (error.code(), error.subcode()) {
            (Some(100), None) => Some(OnboardingFailure::CodeInvalid),
            (Some(1), _) => Some(OnboardingFailure::InvalidAppCredentials),
            _ => Self::of(error),
        }
    }

    /// Whether the business has to go through Meta's signup popup again to get a fresh code.
    pub fn needs_new_signup(&self) -> bool {
        matches!(
            self,
            OnboardingFailure::CodeInvalid
                | OnboardingFailure::CodeExpired
                | OnboardingFailure::CodeUsed
        )
    }
}

#[derive(Deserialize)]
struct WireToken {
    #[serde(default)]
    access_token: String,
}

#[derive(Deserialize)]
struct WireSuccess {
    #[serde(default)]
    success: bool,
}

#[derive(Deserialize)]
struct WirePhoneNumber {
    #[serde(default)]
    id: String,
    display_phone_number: Option<String>,
    verified_name: Option<String>,
    quality_rating: Option<String>,
    throughput: Option<WireThroughput>,
    code_verification_status: Option<String>,
    name_status: Option<String>,
}

#[derive(Deserialize)]
struct WireThroughput {
    level: Option<String>,
}

#[derive(Clone, Copy)]
pub(super) enum Method {
    Get,
    Post,
    Delete,
}

impl GraphClient {
    /// Exchanges an Embedded Signup `code` for the business token:
    /// `GET /{version}/oauth/access_token?client_id=..&client_secret=..&code=..`.
    pub async fn exchange_code(
        &self,
        app_id: &str,
        app_secret: &Secret,
        code: &Secret,
    ) -> Result<Secret, GraphError> {
        if app_id.is_empty() {
            return Err(GraphError::InvalidRequest("the app id is empty"));
        }
        if app_secret.is_empty() {
            return Err(GraphError::InvalidRequest("the app secret is empty"));
        }
        if code.is_empty() {
            return Err(GraphError::InvalidRequest("the signup code is empty"));
        }
        let mut url = Url::parse(&format!(
            "{}/{}/oauth/access_token",
            self.base_url(),
            self.version()
        ))
        .map_err(|_| GraphError::InvalidRequest("the Graph API base URL is not a URL"))?;
        url.query_pairs_mut()
            .append_pair("client_id", app_id)
            .append_pair("client_secret", app_secret.expose())
            .append_pair("code", code.expose());
        let secrets = [app_secret, code];
        let (status, headers, body) = self
            .execute(self.http().get(url))
            .await
            .map_err(without_url)?;
        if !status.is_success() {
            let error = scrubbed(api_error(status.as_u16(), &headers, &body, code), &secrets);
            tracing::debug!(
                http_status = status.as_u16(),
                code = error.code(),
                subcode = error.subcode(),
                "graph code exchange rejected"
            );
            return Err(error);
        }
        let wire: WireToken = serde_json::from_slice(&body).map_err(|_| GraphError::Decode {
            http_status: status.as_u16(),
            reason: "the token answer is not JSON of the documented shape".to_owned(),
        })?;
        if wire.access_token.is_empty() {
            return Err(GraphError::Decode {
                http_status: status.as_u16(),
                reason: "missing access_token".to_owned(),
            });
        }
        Ok(Secret::new(wire.access_token))
    }

    /// Subscribes our app to the WABA's webhooks: `POST /{version}/{waba_id}/subscribed_apps`.
    pub async fn subscribe_app(&self, token: &Secret, waba_id: &str) -> Result<(), GraphError> {
        let url = self.node_url(waba_id, "subscribed_apps")?;
        self.expect_success(Method::Post, url, token, None, "subscribe app")
            .await
    }

    /// Unsubscribes our app: `DELETE /{version}/{waba_id}/subscribed_apps`.
    pub async fn unsubscribe_app(&self, token: &Secret, waba_id: &str) -> Result<(), GraphError> {
        let url = self.node_url(waba_id, "subscribed_apps")?;
        self.expect_success(Method::Delete, url, token, None, "unsubscribe app")
            .await
    }

    /// Registers the number for Cloud API with its two-step verification PIN (six digits; the
    /// first registration sets it): `POST /{version}/{phone_number_id}/register`.
    pub async fn register_phone(
        &self,
        token: &Secret,
        phone_number_id: &str,
        pin: &Secret,
    ) -> Result<(), GraphError> {
        let url = self.node_url(phone_number_id, "register")?;
        let pin_ok = pin.expose().len() == 6 && pin.expose().bytes().all(|b| b.is_ascii_digit());
        if !pin_ok {
            return Err(GraphError::InvalidRequest("the PIN must be six digits"));
        }
        let body = serde_json::json!({ "messaging_product": "whatsapp", "pin": pin.expose() });
        self.expect_success(
            Method::Post,
            url,
            token,
            Some((&body, pin)),
            "register phone",
        )
        .await
    }

    /// Reads the number's display data:
    /// `GET /{version}/{phone_number_id}?fields=`[`PHONE_NUMBER_FIELDS`].
    pub async fn phone_number(
        &self,
        token: &Secret,
        phone_number_id: &str,
    ) -> Result<PhoneNumberInfo, GraphError> {
        let mut url = Url::parse(&self.node_only_url(phone_number_id)?)
            .map_err(|_| GraphError::InvalidRequest("the Graph API base URL is not a URL"))?;
        url.query_pairs_mut()
            .append_pair("fields", PHONE_NUMBER_FIELDS);
        let body = self
            .call(Method::Get, url, token, None, "phone number")
            .await?;
        let decode = |reason: &str| GraphError::Decode {
            http_status: 200,
            reason: reason.to_owned(),
        };
        let wire: WirePhoneNumber = serde_json::from_slice(&body)
            .map_err(|_| decode("the phone number answer is not JSON of the documented shape"))?;
        Ok(PhoneNumberInfo {
            id: wire.id,
            display_phone_number: wire
                .display_phone_number
                .ok_or_else(|| decode("missing display_phone_number"))?,
            verified_name: wire
                .verified_name
                .ok_or_else(|| decode("missing verified_name"))?,
            quality_rating: wire.quality_rating,
            throughput_level: wire.throughput.and_then(|t| t.level),
            code_verification_status: wire.code_verification_status,
            name_status: wire.name_status,
        })
    }

    /// A call answered with `{"success": true}`.
    async fn expect_success(
        &self,
        method: Method,
        url: String,
        token: &Secret,
        body: Option<(&serde_json::Value, &Secret)>,
        what: &'static str,
    ) -> Result<(), GraphError> {
        let answer = self.call(method, url, token, body, what).await?;
        match serde_json::from_slice::<WireSuccess>(&answer) {
            Ok(WireSuccess { success: true }) => Ok(()),
            _ => Err(GraphError::Decode {
                http_status: 200,
                reason: "the answer is not {\"success\": true}".to_owned(),
            }),
        }
    }

    /// Sends an authorized call and returns the body of a 2xx answer. `body` carries a secret of
    /// its own (the PIN) that is scrubbed from errors like the token.
    pub(super) async fn call(
        &self,
        method: Method,
        url: impl reqwest::IntoUrl,
        token: &Secret,
        body: Option<(&serde_json::Value, &Secret)>,
        what: &'static str,
    ) -> Result<Vec<u8>, GraphError> {
        if token.is_empty() {
            return Err(GraphError::InvalidRequest("the access token is empty"));
        }
        let http = self.http();
        let mut request = match method {
            Method::Get => http.get(url),
            Method::Post => http.post(url),
            Method::Delete => http.delete(url),
        }
        .bearer_auth(token.expose());
        let mut secrets = vec![token];
        if let Some((json, secret)) = body {
            request = request.json(json);
            secrets.push(secret);
        }
        let (status, headers, answer) = self.execute(request).await?;
        if !status.is_success() {
            let error = scrubbed(
                api_error(status.as_u16(), &headers, &answer, token),
                &secrets,
            );
            tracing::debug!(
                call = what,
                http_status = status.as_u16(),
                code = error.code(),
                "graph call rejected"
            );
            return Err(error);
        }
        Ok(answer)
    }
}

/// The exchange's URL holds the app secret and the code; reqwest puts the URL in its errors.
fn without_url(error: GraphError) -> GraphError {
    match error {
        GraphError::Transport { kind, source } => GraphError::Transport {
            kind,
            source: source.without_url(),
        },
        other => other,
    }
}

/// Removes every secret from the texts an error carries.
fn scrubbed(mut error: GraphError, secrets: &[&Secret]) -> GraphError {
    let scrub = |text: &mut String| {
        for secret in secrets {
            if !secret.is_empty() && text.contains(secret.expose()) {
                *text = text.replace(secret.expose(), "[REDACTED]");
            }
        }
    };
    match &mut error {
        GraphError::Api {
            message, details, ..
        } => {
            scrub(message);
            if let Some(details) = details {
                scrub(details);
            }
        }
        GraphError::UnexpectedResponse { body_excerpt, .. } => scrub(body_excerpt),
        GraphError::Decode { reason, .. } => scrub(reason),
        GraphError::Transport { .. } | GraphError::InvalidRequest(_) => {}
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: i64, subcode: Option<i64>, message: &str) -> GraphError {
        GraphError::Api {
            http_status: 400,
            code,
            subcode,
            message: message.to_owned(),
            details: None,
            is_transient: None,
            retry_after: None,
            fbtrace_id: None,
        }
    }

    #[test]
    fn classifies_the_codes_a_signup_meets() {
        use OnboardingFailure::*;
        for (code, subcode, expected) in [
            (100, Some(36007), CodeExpired),
            (100, Some(36009), CodeUsed),
            (100, Some(36008), CodeInvalid),
            (100, Some(33), NoAccess),
            (10, None, NoAccess),
            (200, None, NoAccess),
            (299, Some(1), NoAccess),
            (101, None, InvalidAppCredentials),
            (190, Some(463), InvalidToken),
            (104, None, InvalidToken),
            (133005, None, PinMismatch),
            (133008, None, TooManyAttempts),
            (133009, None, TooManyAttempts),
            (133016, None, TooManyAttempts),
            (133006, None, NumberInUseElsewhere),
            (133010, None, NumberNotRegistered),
        ] {
            assert_eq!(
                OnboardingFailure::of(&api(code, subcode, "x")),
                Some(expected),
                "{code}/{subcode:?}"
            );
        }
        assert_eq!(OnboardingFailure::of(&api(100, None, "x")), None);
        assert_eq!(OnboardingFailure::of(&api(131047, None, "x")), None);
        assert_eq!(
            OnboardingFailure::of(&GraphError::InvalidRequest("x")),
            None
        );
    }

    #[test]
    fn the_exchange_reads_code_100_and_code_1_in_its_own_context() {
        assert_eq!(
            OnboardingFailure::of_exchange(&api(100, None, "Invalid verification code format.")),
            Some(OnboardingFailure::CodeInvalid)
        );
        assert_eq!(
            OnboardingFailure::of_exchange(&api(1, None, "Error validating client secret.")),
            Some(OnboardingFailure::InvalidAppCredentials)
        );
        assert_eq!(
            OnboardingFailure::of_exchange(&api(100, Some(36009), "used")),
            Some(OnboardingFailure::CodeUsed)
        );
        assert!(OnboardingFailure::CodeUsed.needs_new_signup());
        assert!(!OnboardingFailure::PinMismatch.needs_new_signup());
    }

    #[test]
    fn scrubbing_removes_every_secret() {
        let secret = Secret::new("app-secret-1");
        let code = Secret::new("AQ-code-2");
        let error = scrubbed(
            api(100, None, "bad app-secret-1 and AQ-code-2"),
            &[&secret, &code],
        );
        let shown = format!("{error} {error:?}");
        assert!(
            !shown.contains("app-secret-1") && !shown.contains("AQ-code-2"),
            "{shown}"
        );
    }
}
