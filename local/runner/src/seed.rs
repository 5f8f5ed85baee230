//! The demo tenant `make dev` and the end-to-end tests start with, and the pieces to seed more
//! tenants the same way (end-to-end tests that need a second tenant use [`seed_tenant`]).

use crate::settings::DemoTenant;
use anyhow::Context;
use switchboard_api::hash_api_key;
use switchboard_domain::{PhoneNumberId, TenantId};
use switchboard_store::{ApiKeyRecord, PhoneRoute, Store, StoreError, Tenant};
use time::OffsetDateTime;

pub async fn seed_demo_tenant(store: &Store, demo: &DemoTenant) -> anyhow::Result<()> {
    let tenant_id = seed_tenant(store, &demo.tenant_id, &demo.name, &demo.api_key).await?;
    // Created only if no tenant holds the number (re-seeding the same tenant is fine): a
    // number never changes owner here, only through `Store::move_phone_route`.
    match store
        .put_phone_route(&PhoneRoute {
            phone_number_id: PhoneNumberId::new(demo.phone_number_id.clone()),
            tenant_id: tenant_id.clone(),
            waba_id: demo.waba_id.clone(),
            display_phone_number: demo.display_phone_number.clone(),
        })
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::PhoneRouteOwner {
            phone_number_id,
            current_owner,
        }) => anyhow::bail!(
            "phone number {phone_number_id} is routed to tenant {}, not the demo tenant {tenant_id}; \
             use another DEMO_PHONE_NUMBER_ID or DEMO_TENANT_ID",
            current_owner.as_ref().map_or("(none)", TenantId::as_str),
        ),
        Err(e) => Err(e).context("creating the demo phone route"),
    }
}

/// A tenant and one API key for it (stored as its SHA-256, as the API looks it up), no phone
/// number. Returns the tenant id.
pub async fn seed_tenant(
    store: &Store,
    tenant_id: &str,
    name: &str,
    api_key: &str,
) -> anyhow::Result<TenantId> {
    let now = OffsetDateTime::now_utc();
    let tenant_id = TenantId::new(tenant_id);
    store
        .put_tenant(&Tenant {
            id: tenant_id.clone(),
            name: name.to_owned(),
            created_at: now,
        })
        .await
        .context("creating the tenant")?;
    store
        .put_api_key(&ApiKeyRecord {
            key_hash: hash_api_key(api_key),
            tenant_id: tenant_id.clone(),
            name: "dev key".into(),
            created_at: now,
        })
        .await
        .context("creating the API key")?;
    Ok(tenant_id)
}
