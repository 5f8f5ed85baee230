//! API keys, found by the SHA-256 of the presented key. The key itself is never stored. Global:
//! the key is how a request's tenant is found.

use crate::error::StoreError;
use crate::expression::Placeholders;
use crate::item::{from_item, keyed, s};
use crate::keys;
use crate::store::{Conditional, Store};
use serde::{Deserialize, Serialize};
use switchboard_domain::TenantId;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    /// Lowercase hex SHA-256 of the key.
    pub key_hash: String,
    pub tenant_id: TenantId,
    pub name: String,
    #[serde(with = "crate::timestamp")]
    pub created_at: OffsetDateTime,
}

impl Store {
    /// Creates the record, or replaces it for the same tenant. A hash already held by another
    /// tenant is refused: a key must never silently change owner.
    pub async fn put_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        let pk = keys::api_key_pk(&key.key_hash)?;
        let mut item = keyed(key, "api_key", pk, keys::API_KEY_SK)?;
        item.insert(
            keys::GSI1PK.to_owned(),
            s(format!("{}APIKEYS", keys::tenant_prefix(&key.tenant_id)?)),
        );
        item.insert(keys::GSI1SK.to_owned(), s(key.key_hash.as_str()));
        let mut p = Placeholders::default();
        let condition = format!(
            "attribute_not_exists({pk}) OR {tenant} = {t}",
            pk = p.name(keys::PK),
            tenant = p.name("tenant_id"),
            t = p.value("t", s(key.tenant_id.as_str())),
        );
        match self.put_if("put_api_key", item, &condition, &p).await? {
            Conditional::Written => Ok(()),
            Conditional::ConditionFailed(_) => Err(StoreError::InvalidKey {
                kind: "api key hash",
                reason: "already registered to another tenant",
            }),
        }
    }

    pub async fn find_api_key(&self, key_hash: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.get(
            "find_api_key",
            keys::api_key_pk(key_hash)?,
            keys::API_KEY_SK,
        )
        .await?
        .map(from_item)
        .transpose()
    }
}
