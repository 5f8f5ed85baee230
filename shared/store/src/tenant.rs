//! A business using Switchboard.

use crate::error::StoreError;
use crate::item::{from_item, keyed};
use crate::keys;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use switchboard_domain::TenantId;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    #[serde(with = "crate::timestamp")]
    pub created_at: OffsetDateTime,
}

impl Tenant {
    pub fn new(id: TenantId, name: impl Into<String>, now: OffsetDateTime) -> Self {
        Self {
            id,
            name: name.into(),
            created_at: now,
        }
    }
}

impl Store {
    /// Creates or replaces the tenant.
    pub async fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        let item = keyed(
            tenant,
            "tenant",
            keys::tenant_pk(&tenant.id)?,
            keys::TENANT_SK,
        )?;
        self.put("put_tenant", item).await
    }

    pub async fn get_tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        self.get("get_tenant", keys::tenant_pk(id)?, keys::TENANT_SK)
            .await?
            .map(from_item)
            .transpose()
    }
}
