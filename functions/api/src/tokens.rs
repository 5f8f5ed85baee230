//! The credentials the API hands out: short-lived access tokens (JWT, HS256 only) and the
//! opaque secrets behind refresh tokens, session cookies, CSRF tokens, invitations and API
//! keys. Opaque secrets are stored only as their SHA-256.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use switchboard_domain::{Secret, TenantId, UserId};
use time::{Duration, OffsetDateTime};

pub const ISSUER: &str = "switchboard";
pub const AUDIENCE: &str = "switchboard-api";
/// Short: a stolen access token is good for minutes; the refresh token is what keeps a
/// sign-in alive, and it is checked against the store on every use.
pub const ACCESS_TOKEN_TTL: Duration = Duration::minutes(15);
/// How long one sign-in lasts at most, however often it is refreshed.
pub const SIGN_IN_TTL: Duration = Duration::days(30);
/// A console session cookie's life.
pub const SESSION_TTL: Duration = Duration::hours(12);
/// The shortest signing key accepted.
pub const MIN_SIGNING_KEY_BYTES: usize = 32;
/// Clock skew tolerated on `iat`.
const MAX_SKEW: Duration = Duration::seconds(60);

/// Lowercase hex SHA-256: how every opaque secret is stored and looked up.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// 32 random bytes, URL-safe.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    /// The tenant.
    pub tid: String,
    /// The sign-in (refresh family) this token belongs to.
    pub sid: String,
    /// The user's token generation when it was issued.
    pub tgen: u64,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

#[derive(Debug, thiserror::Error)]
#[error("the access token signing key is shorter than {MIN_SIGNING_KEY_BYTES} bytes or unusable")]
pub struct WeakSigningKey;

/// Signs and checks access tokens. The algorithm is pinned: a token whose header names any
/// other (`none`, RS256, …) is refused before its signature is looked at.
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl AccessTokens {
    pub fn new(key: &Secret) -> Result<Self, WeakSigningKey> {
        let bytes = key.expose().as_bytes();
        if bytes.len() < MIN_SIGNING_KEY_BYTES {
            return Err(WeakSigningKey);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        // Expiry is checked against the injected clock below, not the system's.
        validation.validate_exp = false;
        Ok(Self {
            encoding: EncodingKey::from_secret(bytes).map_err(|_| WeakSigningKey)?,
            decoding: DecodingKey::from_secret(bytes).map_err(|_| WeakSigningKey)?,
            validation,
        })
    }

    pub fn issue(
        &self,
        tenant: &TenantId,
        user: &UserId,
        sign_in: &str,
        generation: u64,
        now: OffsetDateTime,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = AccessClaims {
            sub: user.to_string(),
            tid: tenant.to_string(),
            sid: sign_in.to_owned(),
            tgen: generation,
            iat: now.unix_timestamp(),
            exp: (now + ACCESS_TOKEN_TTL).unix_timestamp(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// The claims of a token we signed that has not expired at `now`; `None` for anything
    /// else, without saying why (the caller answers 401 either way).
    pub fn verify(&self, token: &str, now: OffsetDateTime) -> Option<AccessClaims> {
        let data =
            jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation).ok()?;
        let claims = data.claims;
        let now_s = now.unix_timestamp();
        let fresh = claims.exp > now_s && claims.iat <= now_s + MAX_SKEW.whole_seconds();
        fresh.then_some(claims)
    }
}

/// `{kind}_{tenant}.{family}.{secret}` style tokens: the tenant and the rest of the path
/// select where to look, the secret's digest must match what is stored there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantToken {
    pub tenant: TenantId,
    /// Parts between the tenant and the secret (a refresh family, an invited user).
    pub middle: Option<String>,
    /// The whole token's digest.
    pub digest: String,
}

/// Builds a token: `prefix` + tenant [+ `.` middle] + `.` + random secret.
pub fn tenant_token(prefix: &str, tenant: &TenantId, middle: Option<&str>) -> Secret {
    let mut token = format!("{prefix}{tenant}");
    if let Some(m) = middle {
        token.push('.');
        token.push_str(m);
    }
    token.push('.');
    token.push_str(&random_secret());
    Secret::new(token)
}

/// Reads a token built by [`tenant_token`]; `None` when it does not have that shape.
pub fn parse_tenant_token(prefix: &str, token: &str, has_middle: bool) -> Option<TenantToken> {
    if token.len() > 512 {
        return None;
    }
    let rest = token.strip_prefix(prefix)?;
    let parts: Vec<&str> = rest.split('.').collect();
    let ok_part = |p: &str| {
        !p.is_empty()
            && p.len() <= 128
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    if parts.len() != if has_middle { 3 } else { 2 } || !parts.iter().all(|p| ok_part(p)) {
        return None;
    }
    Some(TenantToken {
        tenant: TenantId::new(parts[0]),
        middle: has_middle.then(|| parts[1].to_owned()),
        digest: digest(token),
    })
}

pub const REFRESH_PREFIX: &str = "rt_";
pub const SESSION_PREFIX: &str = "ses_";
pub const INVITATION_PREFIX: &str = "inv_";
pub const API_KEY_PREFIX: &str = "sk_";

/// A new API key: `sk_live_` + 43 random characters.
pub fn new_api_key() -> Secret {
    Secret::new(format!("{API_KEY_PREFIX}live_{}", random_secret()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-11-01 10:00 UTC);

    fn tokens() -> AccessTokens {
        AccessTokens::new(&Secret::new("k".repeat(40))).unwrap()
    }

    fn issue() -> String {
        tokens()
            .issue(
                &TenantId::from("tn_a"),
                &UserId::from("usr_a"),
                "fam",
                0,
                T0,
            )
            .unwrap()
    }

    #[test]
    fn a_fresh_token_verifies_and_expires() {
        let t = issue();
        let claims = tokens().verify(&t, T0 + Duration::minutes(1)).unwrap();
        assert_eq!(
            (claims.tid.as_str(), claims.sub.as_str()),
            ("tn_a", "usr_a")
        );
        assert!(tokens().verify(&t, T0 + ACCESS_TOKEN_TTL).is_none());
    }

    #[test]
    fn tampered_foreign_and_unsigned_tokens_are_refused() {
        let t = issue();
        let (head, rest) = t.split_once('.').unwrap();
        let (payload, sig) = rest.split_once('.').unwrap();
        // Another tenant in the payload, signature unchanged.
        let forged_payload = URL_SAFE_NO_PAD.encode(
            String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap())
                .unwrap()
                .replace("tn_a", "tn_b"),
        );
        assert!(
            tokens()
                .verify(&format!("{head}.{forged_payload}.{sig}"), T0)
                .is_none()
        );
        // `alg: none`, no signature.
        let none_head = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        assert!(
            tokens()
                .verify(&format!("{none_head}.{payload}."), T0)
                .is_none()
        );
        // Signed with another key.
        let other = AccessTokens::new(&Secret::new("x".repeat(40))).unwrap();
        assert!(other.verify(&t, T0).is_none());
        assert!(AccessTokens::new(&Secret::new("short")).is_err());
    }

    #[test]
    fn tenant_tokens_round_trip_and_reject_odd_shapes() {
        let t = tenant_token(REFRESH_PREFIX, &TenantId::from("tn_a"), Some("fam1"));
        let parsed = parse_tenant_token(REFRESH_PREFIX, t.expose(), true).unwrap();
        assert_eq!(parsed.tenant.as_str(), "tn_a");
        assert_eq!(parsed.middle.as_deref(), Some("fam1"));
        assert_eq!(parsed.digest, digest(t.expose()));
        assert!(parse_tenant_token(REFRESH_PREFIX, t.expose(), false).is_none());
        assert!(parse_tenant_token(REFRESH_PREFIX, "rt_a#b.c.d", true).is_none());
        assert!(parse_tenant_token(SESSION_PREFIX, t.expose(), true).is_none());
    }
}
