//! API keys, found by the SHA-256 of the presented key. The key itself is never stored. Global:
//! the key is how a request's tenant is found. Listed per tenant through `gsi1`.

use crate::cursor::Cursors;
use crate::error::StoreError;
use crate::expression::Placeholders;
use crate::item::{from_item, keyed, s};
use crate::keys;
use crate::listing::IndexListing;
use crate::page::Page;
use crate::store::{Conditional, Store};
use serde::{Deserialize, Serialize};
use switchboard_domain::{ApiKeyId, Scope, TenantId};
use time::{Duration, OffsetDateTime};

/// `last_used_at` is written at most this often per key: a busy key would otherwise cost a
/// write per request. Callers skip the write while the stored value is newer
/// ([`ApiKeyRecord::last_use_due`]), so a key in steady use costs one write per period.
pub const LAST_USED_RESOLUTION: Duration = Duration::minutes(5);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    /// Lowercase hex SHA-256 of the key.
    pub key_hash: String,
    pub id: ApiKeyId,
    pub tenant_id: TenantId,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The first characters of the key, shown in listings so people can tell keys apart.
    pub prefix: String,
    /// Who created it (a user id), when a person did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(with = "crate::timestamp")]
    pub created_at: OffsetDateTime,
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub revoked_at: Option<OffsetDateTime>,
}

impl ApiKeyRecord {
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }

    /// Whether a use at `now` is to be recorded: the stored last use is older than
    /// [`LAST_USED_RESOLUTION`], or there is none. Decided on the record as read; the write
    /// ([`Store::touch_api_key`]) checks it again.
    pub fn last_use_due(&self, now: OffsetDateTime) -> bool {
        self.last_used_at
            .is_none_or(|used| used < now - LAST_USED_RESOLUTION)
    }
}

impl Store {
    /// Creates the record. A hash already registered (to anyone) is refused: a key never
    /// changes owner and a revoked key never comes back.
    pub async fn put_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        let pk = keys::api_key_pk(&key.key_hash)?;
        let mut item = keyed(key, "api_key", pk, keys::API_KEY_SK)?;
        item.insert(
            keys::GSI1PK.to_owned(),
            s(keys::api_keys_gsi1pk(&key.tenant_id)?),
        );
        item.insert(keys::GSI1SK.to_owned(), s(key.id.as_str()));
        let mut p = Placeholders::default();
        let condition = format!("attribute_not_exists({})", p.name(keys::PK));
        match self.put_if("put_api_key", item, &condition, &p).await? {
            Conditional::Written => Ok(()),
            Conditional::ConditionFailed(_) => Err(StoreError::InvalidKey {
                kind: "api key hash",
                reason: "already registered",
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

    /// The tenant's keys, newest first (ids are ULIDs). Revoked keys stay listed, marked.
    pub async fn list_api_keys(
        &self,
        tenant: &TenantId,
        limit: i32,
        cursor: Option<&str>,
        cursors: Cursors<'_>,
    ) -> Result<Page<ApiKeyRecord>, StoreError> {
        self.list_index_of(
            IndexListing {
                operation: "list_api_keys",
                gsi1pk: keys::api_keys_gsi1pk(tenant)?,
                pk_prefix: "APIKEY#".to_owned(),
                sk: keys::API_KEY_SK,
                newest_first: true,
            },
            limit,
            cursor,
            cursors,
        )
        .await
    }

    /// The tenant's key with this id, found through the index (eventually consistent: a key
    /// is revoked well after it was created).
    pub async fn find_api_key_by_id(
        &self,
        tenant: &TenantId,
        id: &ApiKeyId,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        let mut p = Placeholders::default();
        let condition = format!(
            "{} = {} AND {} = {}",
            p.name(keys::GSI1PK),
            p.value("gsi1pk", s(keys::api_keys_gsi1pk(tenant)?)),
            p.name(keys::GSI1SK),
            p.value("id", s(id.as_str())),
        );
        let out = self
            .client
            .query()
            .table_name(self.table.as_ref())
            .index_name(keys::GSI1)
            .key_condition_expression(condition)
            .set_expression_attribute_names(p.names())
            .set_expression_attribute_values(p.values())
            .limit(1)
            .send()
            .await
            .map_err(|e| crate::error::from_sdk("find_api_key_by_id", e))?;
        let record = out
            .items
            .unwrap_or_default()
            .into_iter()
            .next()
            .map(from_item::<ApiKeyRecord>)
            .transpose()?;
        Ok(record.filter(|r| &r.tenant_id == tenant))
    }

    /// Marks the key revoked; it opens nothing from then on. Revoking twice keeps the first
    /// time. `NotFound` when the tenant has no such key.
    pub async fn revoke_api_key(
        &self,
        tenant: &TenantId,
        id: &ApiKeyId,
        now: OffsetDateTime,
    ) -> Result<ApiKeyRecord, StoreError> {
        let Some(mut record) = self.find_api_key_by_id(tenant, id).await? else {
            return Err(StoreError::NotFound { what: "api key" });
        };
        let mut p = Placeholders::default();
        let update = format!(
            "SET {revoked} = if_not_exists({revoked}, {now})",
            revoked = p.name("revoked_at"),
            now = p.value("now", s(crate::timestamp::encode(now)?)),
        );
        let condition = format!(
            "{} = {}",
            p.name("tenant_id"),
            p.value("tenant", s(tenant.as_str()))
        );
        match self
            .update_if(
                "revoke_api_key",
                keys::api_key_pk(&record.key_hash)?,
                keys::API_KEY_SK,
                &update,
                Some(&condition),
                &p,
            )
            .await?
        {
            Conditional::Written => {
                record.revoked_at.get_or_insert(now);
                Ok(record)
            }
            Conditional::ConditionFailed(_) => Err(StoreError::NotFound { what: "api key" }),
        }
    }

    /// Records that the key was used at `now`, unless that was already recorded within
    /// [`LAST_USED_RESOLUTION`]; `true` when it wrote.
    pub async fn touch_api_key(
        &self,
        key_hash: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut p = Placeholders::default();
        let used = p.name("last_used_at");
        let update = format!(
            "SET {used} = {now}",
            now = p.value("now", s(crate::timestamp::encode(now)?)),
        );
        let condition = format!(
            "attribute_exists({pk}) AND (attribute_not_exists({used}) OR {used} < {since})",
            pk = p.name(keys::PK),
            since = p.value(
                "since",
                s(crate::timestamp::encode(now - LAST_USED_RESOLUTION)?)
            ),
        );
        let written = self
            .update_if(
                "touch_api_key",
                keys::api_key_pk(key_hash)?,
                keys::API_KEY_SK,
                &update,
                Some(&condition),
                &p,
            )
            .await?;
        Ok(matches!(written, Conditional::Written))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_use_is_recorded_once_per_resolution() {
        let now = datetime!(2026-11-01 10:00 UTC);
        let mut key = ApiKeyRecord {
            key_hash: "0".repeat(64),
            id: ApiKeyId::from("key_1"),
            tenant_id: TenantId::from("acme"),
            name: "crm".into(),
            scopes: Vec::new(),
            prefix: "sb_live_0000".into(),
            created_by: None,
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        };
        assert!(key.last_use_due(now), "never used");
        key.last_used_at = Some(now - LAST_USED_RESOLUTION + Duration::seconds(1));
        assert!(!key.last_use_due(now), "recorded within the resolution");
        key.last_used_at = Some(now - LAST_USED_RESOLUTION - Duration::seconds(1));
        assert!(key.last_use_due(now), "older than the resolution");
    }
}
