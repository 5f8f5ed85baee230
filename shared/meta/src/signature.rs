//! `X-Hub-Signature-256`: HMAC-SHA256 of the raw request body, keyed with the app secret,
//! sent as `sha256=<64 lowercase hex>`.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub const HEADER: &str = "x-hub-signature-256";

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing X-Hub-Signature-256 header")]
    Missing,
    #[error("malformed X-Hub-Signature-256 header")]
    Malformed,
    #[error("X-Hub-Signature-256 does not match the body")]
    Mismatch,
}

/// Verifies a header value against the raw body in constant time.
pub fn verify(app_secret: &[u8], body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex_digest = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    let mut expected = [0u8; 32];
    hex::decode_to_slice(hex_digest, &mut expected).map_err(|_| SignatureError::Malformed)?;
    let actual = digest(app_secret, body);
    if bool::from(actual.ct_eq(&expected)) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The header value Meta would send for this body.
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    format!("sha256={}", hex::encode(digest(app_secret, body)))
}

fn digest(app_secret: &[u8], body: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(app_secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(body);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_its_own_signature_and_rejects_tampering() {
        let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
        let header = sign(b"app-secret", body);
        assert!(header.starts_with("sha256=") && header.len() == 71);
        assert_eq!(verify(b"app-secret", body, Some(&header)), Ok(()));
        assert_eq!(verify(b"other", body, Some(&header)), Err(SignatureError::Mismatch));
        assert_eq!(verify(b"app-secret", b"{}", Some(&header)), Err(SignatureError::Mismatch));
        assert_eq!(verify(b"app-secret", body, None), Err(SignatureError::Missing));
        assert_eq!(verify(b"app-secret", body, Some("sha1=abc")), Err(SignatureError::Malformed));
        assert_eq!(verify(b"app-secret", body, Some("sha256=zz")), Err(SignatureError::Malformed));
    }

    #[test]
    fn matches_a_known_vector() {
        // RFC 4231 test case 2.
        let header = sign(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            header,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
