//! Passwords: length rules, bcrypt at cost 12 or more, checked off the async threads. A
//! password is never logged, returned or kept beyond the request.

use crate::problem::Problem;
use switchboard_domain::Secret;

/// The cost every hash is made with (2^12 rounds); never lower.
pub const BCRYPT_COST: u32 = 12;
pub const MIN_PASSWORD_CHARS: usize = 12;
/// bcrypt reads only the first 72 bytes; longer passwords are refused rather than cut.
pub const MAX_PASSWORD_BYTES: usize = 72;

/// The rules a new password must meet, as a 422 naming `field`.
pub fn check_rules(field: &str, password: &Secret, email: &str) -> Result<(), Problem> {
    let p = password.expose();
    if p.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Problem::field(
            field,
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if p.len() > MAX_PASSWORD_BYTES {
        return Err(Problem::field(
            field,
            format!("must be at most {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    if p.trim() != p {
        return Err(Problem::field(field, "must not start or end with spaces"));
    }
    let lower = p.to_lowercase();
    let local = email.split('@').next().unwrap_or("").to_lowercase();
    let email = email.to_lowercase();
    if (!email.is_empty() && lower.contains(&email)) || (local.len() >= 4 && lower.contains(&local))
    {
        return Err(Problem::field(field, "must not contain the e-mail address"));
    }
    if p.chars().collect::<std::collections::HashSet<_>>().len() < 5 {
        return Err(Problem::field(field, "must not repeat a few characters"));
    }
    Ok(())
}

pub async fn hash(password: &Secret) -> Result<String, Problem> {
    let password = password.clone();
    tokio::task::spawn_blocking(move || bcrypt::hash(password.expose(), BCRYPT_COST))
        .await
        .map_err(|e| Problem::internal(&e))?
        .map_err(|e| Problem::internal(&e))
}

/// Whether `password` matches `hash`. With no hash (unknown address, invited user) a fixed
/// hash is checked instead, so the answer takes as long and says nothing about the address.
pub async fn verify(password: &Secret, hash: Option<&str>) -> Result<bool, Problem> {
    let password = password.clone();
    let (hash, real) = match hash {
        Some(h) => (h.to_owned(), true),
        None => (dummy_hash().await?, false),
    };
    let matched = tokio::task::spawn_blocking(move || bcrypt::verify(password.expose(), &hash))
        .await
        .map_err(|e| Problem::internal(&e))?
        .unwrap_or(false);
    Ok(real && matched)
}

static DUMMY_HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

/// bcrypt of a random string at [`BCRYPT_COST`], made once per container; matches nothing
/// anyone types.
async fn dummy_hash() -> Result<String, Problem> {
    DUMMY_HASH
        .get_or_try_init(|| async { hash(&Secret::new(crate::tokens::random_secret())).await })
        .await
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        let ok = |p: &str| check_rules("password", &Secret::new(p), "ana@example.com").is_ok();
        assert!(ok("correct horse battery"));
        assert!(!ok("short"));
        assert!(!ok(&"ab".repeat(40)));
        assert!(!ok("aaaaaaaaaaaaaaaa"));
        assert!(!ok("my-ana@example.com-pw"));
        assert!(!ok(" leading space pw"));
    }

    #[tokio::test]
    async fn hashes_at_cost_twelve_and_verifies() {
        let pw = Secret::new("correct horse battery");
        let h = hash(&pw).await.unwrap();
        assert!(h.starts_with("$2b$12$"));
        assert!(verify(&pw, Some(&h)).await.unwrap());
        assert!(
            !verify(&Secret::new("wrong horse battery"), Some(&h))
                .await
                .unwrap()
        );
        assert!(!verify(&pw, None).await.unwrap());
    }
}
