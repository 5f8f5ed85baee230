//! The demo tenant `make dev` and the end-to-end tests start with.

use crate::settings::DemoTenant;
use switchboard_api::hash_api_key;
use switchboard_domain::{PhoneNumberId, TenantId};
use switchboard_store::{ApiKeyRecord, PhoneRoute, Store, Tenant};
use time::OffsetDateTime;

pub async fn seed_demo_tenant(store: &Store, demo: &DemoTenant) -> anyhow::Result<()> {
    let now = OffsetDateTime::now_utc();
    let tenant_id = TenantId::new(demo.tenant_id.clone());
    store
        .put_tenant(&Tenant {
            id: tenant_id.clone(),
            name: demo.name.clone(),
            created_at: now,
        })
        .await?;
    store
        .put_phone_route(&PhoneRoute {
            phone_number_id: PhoneNumberId::new(demo.phone_number_id.clone()),
            tenant_id: tenant_id.clone(),
            waba_id: demo.waba_id.clone(),
            display_phone_number: demo.display_phone_number.clone(),
        })
        .await?;
    store
        .put_api_key(&ApiKeyRecord {
            key_hash: hash_api_key(&demo.api_key),
            tenant_id,
            name: "dev key".into(),
            created_at: now,
        })
        .await?;
    Ok(())
}
