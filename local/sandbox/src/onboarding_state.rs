//! What the sandbox remembers about Embedded Signup: the codes it minted, the business tokens
//! it issued for them, each number's registration (PIN, wrong guesses, attempts) and which
//! WABAs have our app subscribed.
//!
//! Tokens are kept only as SHA-256 digests once issued, so nothing the sandbox lists or logs can
//! be replayed; the raw token lives in its code record until the one exchange that returns it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

/// Meta's signup codes are good for about ten minutes.
pub const CODE_LIFETIME: Duration = Duration::from_secs(600);
/// Wrong PINs a number takes before it is blocked (Meta answers 133016 from then on).
pub const MAX_WRONG_PINS: u32 = 3;
/// Meta allows 10 register requests per number in a 72-hour moving window, then blocks the
/// number for 72 hours (code 133016).
pub const REGISTER_LIMIT: usize = 10;
pub const REGISTER_WINDOW: Duration = Duration::from_secs(72 * 3600);
/// The name a number gets when the mint request names none.
pub const DEFAULT_VERIFIED_NAME: &str = "Sandbox Business";

/// Lowercase hex SHA-256 of a bearer token: how the sandbox records which token did what.
pub fn token_sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// `POST /sandbox/signup-codes`: what Meta's signup popup would have produced.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupCodeRequest {
    pub waba_id: String,
    pub phone_number_id: String,
    pub display_phone_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_name: Option<String>,
    /// The number's two-step verification PIN, already set on Meta's side. Without one, the
    /// first registration sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
    /// The number is still registered on the On-Premises API or with another solution partner:
    /// registering it answers Meta's 133006 until it is migrated.
    #[serde(default)]
    pub registered_elsewhere: bool,
    /// Lifetime of the code, [`CODE_LIFETIME`] when absent; `0` mints an expired code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_secs: Option<u64>,
}

impl fmt::Debug for SignupCodeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignupCodeRequest")
            .field("waba_id", &self.waba_id)
            .field("phone_number_id", &self.phone_number_id)
            .field("display_phone_number", &self.display_phone_number)
            .field("verified_name", &self.verified_name)
            .field("pin", &self.pin.as_ref().map(|_| "[REDACTED]"))
            .field("registered_elsewhere", &self.registered_elsewhere)
            .field("expires_in_secs", &self.expires_in_secs)
            .finish()
    }
}

/// The answer to a mint: the code for the front end, and the business token the exchange of
/// that code will issue, so a test can later prove which token was used.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupCode {
    pub code: String,
    pub access_token: String,
    /// Seconds until the code expires.
    pub expires_in: u64,
}

impl fmt::Debug for SignupCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignupCode")
            .field("code", &"[REDACTED]")
            .field("access_token", &"[REDACTED]")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignupCodeError {
    #[error("{0} must be a non-empty Graph id (letters, digits, '_' or '-')")]
    InvalidId(&'static str),
    #[error("display_phone_number must not be empty")]
    MissingDisplayPhoneNumber,
    #[error("pin must be six digits")]
    InvalidPin,
    #[error("phone number {phone_number_id} belongs to WABA {owner}, not {requested}")]
    NumberOfAnotherWaba {
        phone_number_id: String,
        owner: String,
        requested: String,
    },
}

/// A WABA with our app subscribed (`GET /sandbox/subscriptions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub waba_id: String,
    pub app_id: String,
    /// RFC 3339.
    pub subscribed_at: String,
}

/// A number's registration state (`GET /sandbox/registrations`). The PIN itself is not shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub phone_number_id: String,
    pub waba_id: String,
    pub display_phone_number: String,
    pub verified_name: String,
    pub registered: bool,
    /// RFC 3339, of the last successful registration.
    pub registered_at: Option<String>,
    pub pin_set: bool,
    /// Wrong PINs since the last successful registration.
    pub wrong_pins: u32,
    /// Register requests counted in the current 72-hour window.
    pub register_requests: usize,
    pub blocked: bool,
    pub registered_elsewhere: bool,
}

/// Why an exchange found no token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeRefusal {
    Unknown,
    Expired,
    Used,
}

/// Why a registration failed, in the order the sandbox checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterRefusal {
    /// 133016: blocked after too many attempts or wrong PINs.
    TooManyAttempts,
    /// 133006: the number is registered elsewhere.
    InUseElsewhere,
    /// 133005.
    PinMismatch,
}

struct IssuedCode {
    waba_id: String,
    /// Until the exchange hands it out.
    token: Option<String>,
    expires_at: Instant,
}

struct NumberState {
    waba_id: String,
    display_phone_number: String,
    verified_name: String,
    pin: Option<String>,
    registered_elsewhere: bool,
    registered_at: Option<String>,
    wrong_pins: u32,
    requests: VecDeque<Instant>,
    blocked_until: Option<Instant>,
}

impl NumberState {
    fn blocked(&self, now: Instant) -> bool {
        self.blocked_until.is_some_and(|until| now < until)
    }
}

/// What a number looks like to the Graph API's `GET /{phone_number_id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberView {
    pub waba_id: String,
    pub display_phone_number: String,
    pub verified_name: String,
    pub registered: bool,
    pub registered_elsewhere: bool,
}

#[derive(Default)]
pub struct OnboardingState {
    codes: HashMap<String, IssuedCode>,
    /// SHA-256 of an issued business token → its WABA.
    tokens: HashMap<String, String>,
    numbers: BTreeMap<String, NumberState>,
    subscriptions: BTreeMap<String, Subscription>,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub fn valid_pin(pin: &str) -> bool {
    pin.len() == 6 && pin.bytes().all(|b| b.is_ascii_digit())
}

/// `len` random characters from `alphabet`.
fn random_text(alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| char::from(alphabet[usize::from(rand::random::<u8>()) % alphabet.len()]))
        .collect()
}

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const URL_SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

impl OnboardingState {
    /// The sandbox's own number starts registered, as it has always answered sends.
    pub fn seeded(waba_id: &str, phone_number_id: &str, display_phone_number: &str) -> Self {
        let mut state = Self::default();
        state.numbers.insert(
            phone_number_id.to_owned(),
            NumberState {
                waba_id: waba_id.to_owned(),
                display_phone_number: display_phone_number.to_owned(),
                verified_name: DEFAULT_VERIFIED_NAME.to_owned(),
                pin: None,
                registered_elsewhere: false,
                registered_at: Some(crate::clock::rfc3339_now()),
                wrong_pins: 0,
                requests: VecDeque::new(),
                blocked_until: None,
            },
        );
        state
    }

    /// Mints a single-use code and the token its exchange will issue. The number joins the WABA
    /// (a number already known keeps its registration state).
    pub fn mint(
        &mut self,
        request: &SignupCodeRequest,
        now: Instant,
    ) -> Result<SignupCode, SignupCodeError> {
        if !valid_id(&request.waba_id) {
            return Err(SignupCodeError::InvalidId("waba_id"));
        }
        if !valid_id(&request.phone_number_id) {
            return Err(SignupCodeError::InvalidId("phone_number_id"));
        }
        if request.display_phone_number.trim().is_empty() {
            return Err(SignupCodeError::MissingDisplayPhoneNumber);
        }
        if request.pin.as_deref().is_some_and(|pin| !valid_pin(pin)) {
            return Err(SignupCodeError::InvalidPin);
        }
        match self.numbers.get(&request.phone_number_id) {
            Some(number) if number.waba_id != request.waba_id => {
                return Err(SignupCodeError::NumberOfAnotherWaba {
                    phone_number_id: request.phone_number_id.clone(),
                    owner: number.waba_id.clone(),
                    requested: request.waba_id.clone(),
                });
            }
            Some(_) => {}
            None => {
                self.numbers.insert(
                    request.phone_number_id.clone(),
                    NumberState {
                        waba_id: request.waba_id.clone(),
                        display_phone_number: request.display_phone_number.clone(),
                        verified_name: request
                            .verified_name
                            .clone()
                            .unwrap_or_else(|| DEFAULT_VERIFIED_NAME.to_owned()),
                        pin: request.pin.clone(),
                        registered_elsewhere: request.registered_elsewhere,
                        registered_at: None,
                        wrong_pins: 0,
                        requests: VecDeque::new(),
                        blocked_until: None,
                    },
                );
            }
        }
        let lifetime = request
            .expires_in_secs
            .map_or(CODE_LIFETIME, Duration::from_secs);
        // Meta's codes start with "AQ" and its user tokens with "EAA".
        let code = format!("AQ{}", random_text(URL_SAFE, 94));
        let access_token = format!("EAAG{}", random_text(ALPHANUMERIC, 92));
        self.codes.insert(
            code.clone(),
            IssuedCode {
                waba_id: request.waba_id.clone(),
                token: Some(access_token.clone()),
                expires_at: now + lifetime,
            },
        );
        Ok(SignupCode {
            code,
            access_token,
            expires_in: lifetime.as_secs(),
        })
    }

    /// Exchanges a code once; from then on its token is issued for the code's WABA.
    pub fn exchange(&mut self, code: &str, now: Instant) -> Result<String, ExchangeRefusal> {
        let issued = self.codes.get_mut(code).ok_or(ExchangeRefusal::Unknown)?;
        if issued.token.is_none() {
            return Err(ExchangeRefusal::Used);
        }
        if now >= issued.expires_at {
            return Err(ExchangeRefusal::Expired);
        }
        let token = issued.token.take().ok_or(ExchangeRefusal::Used)?;
        self.tokens
            .insert(token_sha256(&token), issued.waba_id.clone());
        Ok(token)
    }

    /// The WABA an issued token belongs to.
    pub fn token_waba(&self, token_sha256: &str) -> Option<&str> {
        self.tokens.get(token_sha256).map(String::as_str)
    }

    /// The WABA that owns a number the sandbox knows.
    pub fn number_waba(&self, phone_number_id: &str) -> Option<&str> {
        self.numbers
            .get(phone_number_id)
            .map(|number| number.waba_id.as_str())
    }

    pub fn knows_waba(&self, waba_id: &str) -> bool {
        self.numbers
            .values()
            .any(|number| number.waba_id == waba_id)
    }

    pub fn number(&self, phone_number_id: &str) -> Option<NumberView> {
        self.numbers.get(phone_number_id).map(|number| NumberView {
            waba_id: number.waba_id.clone(),
            display_phone_number: number.display_phone_number.clone(),
            verified_name: number.verified_name.clone(),
            registered: number.registered_at.is_some(),
            registered_elsewhere: number.registered_elsewhere,
        })
    }

    /// One register request, counted against Meta's limits whatever its outcome.
    pub fn register(
        &mut self,
        phone_number_id: &str,
        pin: &str,
        now: Instant,
        registered_at: String,
    ) -> Result<(), RegisterRefusal> {
        // The handler checked the number exists; an unknown one is refused like a blocked one.
        let number = self
            .numbers
            .get_mut(phone_number_id)
            .ok_or(RegisterRefusal::TooManyAttempts)?;
        if number.blocked(now) {
            return Err(RegisterRefusal::TooManyAttempts);
        }
        while number
            .requests
            .front()
            .is_some_and(|at| now.duration_since(*at) >= REGISTER_WINDOW)
        {
            number.requests.pop_front();
        }
        if number.requests.len() >= REGISTER_LIMIT {
            number.blocked_until = Some(now + REGISTER_WINDOW);
            return Err(RegisterRefusal::TooManyAttempts);
        }
        number.requests.push_back(now);
        if number.registered_elsewhere {
            return Err(RegisterRefusal::InUseElsewhere);
        }
        match &number.pin {
            Some(expected) if expected != pin => {
                number.wrong_pins += 1;
                if number.wrong_pins >= MAX_WRONG_PINS {
                    number.blocked_until = Some(now + REGISTER_WINDOW);
                }
                return Err(RegisterRefusal::PinMismatch);
            }
            Some(_) => {}
            None => number.pin = Some(pin.to_owned()),
        }
        number.wrong_pins = 0;
        number.registered_at = Some(registered_at);
        Ok(())
    }

    pub fn subscribe(&mut self, waba_id: &str, app_id: &str, subscribed_at: String) {
        self.subscriptions
            .entry(waba_id.to_owned())
            .or_insert_with(|| Subscription {
                waba_id: waba_id.to_owned(),
                app_id: app_id.to_owned(),
                subscribed_at,
            });
    }

    pub fn unsubscribe(&mut self, waba_id: &str) {
        self.subscriptions.remove(waba_id);
    }

    pub fn is_subscribed(&self, waba_id: &str) -> bool {
        self.subscriptions.contains_key(waba_id)
    }

    pub fn subscriptions(&self) -> Vec<Subscription> {
        self.subscriptions.values().cloned().collect()
    }

    pub fn registrations(&self, now: Instant) -> Vec<Registration> {
        self.numbers
            .iter()
            .map(|(id, number)| Registration {
                phone_number_id: id.clone(),
                waba_id: number.waba_id.clone(),
                display_phone_number: number.display_phone_number.clone(),
                verified_name: number.verified_name.clone(),
                registered: number.registered_at.is_some(),
                registered_at: number.registered_at.clone(),
                pin_set: number.pin.is_some(),
                wrong_pins: number.wrong_pins,
                register_requests: number
                    .requests
                    .iter()
                    .filter(|at| now.duration_since(**at) < REGISTER_WINDOW)
                    .count(),
                blocked: number.blocked(now),
                registered_elsewhere: number.registered_elsewhere,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(waba: &str, number: &str, pin: Option<&str>) -> SignupCodeRequest {
        SignupCodeRequest {
            waba_id: waba.into(),
            phone_number_id: number.into(),
            display_phone_number: "+1 555-010-0001".into(),
            pin: pin.map(str::to_owned),
            ..SignupCodeRequest::default()
        }
    }

    #[test]
    fn a_code_exchanges_once_and_issues_its_token_for_its_waba() {
        let mut state = OnboardingState::default();
        let now = Instant::now();
        let minted = state.mint(&request("w1", "p1", None), now).unwrap();
        assert!(minted.code.starts_with("AQ") && minted.access_token.starts_with("EAAG"));
        assert_eq!(state.token_waba(&token_sha256(&minted.access_token)), None);

        assert_eq!(
            state.exchange(&minted.code, now),
            Ok(minted.access_token.clone())
        );
        assert_eq!(
            state.token_waba(&token_sha256(&minted.access_token)),
            Some("w1")
        );
        assert_eq!(
            state.exchange(&minted.code, now),
            Err(ExchangeRefusal::Used)
        );
        assert_eq!(state.exchange("AQnope", now), Err(ExchangeRefusal::Unknown));
    }

    #[test]
    fn codes_expire_after_ten_minutes() {
        let mut state = OnboardingState::default();
        let now = Instant::now();
        let minted = state.mint(&request("w1", "p1", None), now).unwrap();
        assert_eq!(minted.expires_in, 600);
        assert_eq!(
            state.exchange(&minted.code, now + CODE_LIFETIME),
            Err(ExchangeRefusal::Expired)
        );
    }

    #[test]
    fn a_number_belongs_to_one_waba() {
        let mut state = OnboardingState::default();
        let now = Instant::now();
        state.mint(&request("w1", "p1", None), now).unwrap();
        assert!(state.mint(&request("w1", "p1", None), now).is_ok());
        assert!(matches!(
            state.mint(&request("w2", "p1", None), now),
            Err(SignupCodeError::NumberOfAnotherWaba { .. })
        ));
        assert_eq!(
            state.mint(&request("w1", "p2", Some("12345")), now),
            Err(SignupCodeError::InvalidPin)
        );
        assert_eq!(
            state.mint(&request("w/1", "p2", None), now),
            Err(SignupCodeError::InvalidId("waba_id"))
        );
    }

    #[test]
    fn the_first_registration_sets_the_pin_and_wrong_pins_block_the_number() {
        let mut state = OnboardingState::default();
        let now = Instant::now();
        state.mint(&request("w1", "p1", None), now).unwrap();
        let at = || "2026-01-01T00:00:00Z".to_owned();
        assert_eq!(state.register("p1", "111111", now, at()), Ok(()));
        assert_eq!(
            state.register("p1", "222222", now, at()),
            Err(RegisterRefusal::PinMismatch)
        );
        assert_eq!(state.register("p1", "111111", now, at()), Ok(()));
        for _ in 0..MAX_WRONG_PINS {
            assert_eq!(
                state.register("p1", "999999", now, at()),
                Err(RegisterRefusal::PinMismatch)
            );
        }
        assert_eq!(
            state.register("p1", "111111", now, at()),
            Err(RegisterRefusal::TooManyAttempts)
        );
        assert!(state.registrations(now)[0].blocked);
        assert_eq!(
            state.register("p1", "111111", now + REGISTER_WINDOW, at()),
            Ok(())
        );
    }

    #[test]
    fn the_eleventh_request_in_72_hours_is_refused() {
        let mut state = OnboardingState::default();
        let now = Instant::now();
        state
            .mint(&request("w1", "p1", Some("123456")), now)
            .unwrap();
        for _ in 0..REGISTER_LIMIT {
            assert_eq!(state.register("p1", "123456", now, String::new()), Ok(()));
        }
        assert_eq!(
            state.register("p1", "123456", now, String::new()),
            Err(RegisterRefusal::TooManyAttempts)
        );
    }

    #[test]
    fn debug_hides_pins_codes_and_tokens() {
        let shown = format!(
            "{:?} {:?}",
            request("w1", "p1", Some("424242")),
            SignupCode {
                code: "AQsecretcode".into(),
                access_token: "EAAGsecrettoken".into(),
                expires_in: 600
            }
        );
        assert!(
            !shown.contains("424242")
                && !shown.contains("secretcode")
                && !shown.contains("secrettoken"),
            "{shown}"
        );
    }
}
