//! Who is calling. One seam: today an API key stored hashed per tenant; tenancy and user
//! sign-in replace the implementation, not the handlers.

use crate::ApiState;
use crate::problem::Problem;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use switchboard_domain::TenantId;
use switchboard_store::Store;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub tenant: TenantId,
}

#[async_trait::async_trait]
pub trait Authenticator: Send + Sync {
    async fn authenticate(&self, api_key: &str) -> Result<Option<Caller>, Problem>;
}

/// Keys are stored as their SHA-256: a leaked table does not leak working keys. Keys are
/// long random strings, so an unsalted fast hash is enough (no dictionary to attack).
pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

pub struct ApiKeyAuthenticator {
    store: Store,
}

impl ApiKeyAuthenticator {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

#[async_trait::async_trait]
impl Authenticator for ApiKeyAuthenticator {
    async fn authenticate(&self, api_key: &str) -> Result<Option<Caller>, Problem> {
        let record = self.store.find_api_key(&hash_api_key(api_key)).await?;
        Ok(record.map(|r| Caller {
            tenant: r.tenant_id,
        }))
    }
}

impl FromRequestParts<Arc<ApiState>> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<ApiState>) -> Result<Self, Problem> {
        let key = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .or_else(|| parts.headers.get("x-api-key").and_then(|v| v.to_str().ok()))
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(Problem::unauthorized)?;
        state
            .auth
            .authenticate(key)
            .await?
            .ok_or_else(Problem::unauthorized)
    }
}
