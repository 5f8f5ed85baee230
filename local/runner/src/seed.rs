//! The demo tenant `make dev` and the end-to-end tests start with, and the pieces to seed more
//! tenants the same way (end-to-end tests that need a second tenant use [`seed_tenant`]).
//! Seeding is idempotent: a restarted `make dev` finds what it seeded before.

use crate::settings::DemoTenant;
use anyhow::Context;
use switchboard_api::secret_digest;
use switchboard_domain::Secret;
use switchboard_domain::{ApiKeyId, PhoneNumberId, Role, Scope, TenantId, UserId};
use switchboard_platform::business_token::store_business_token;
use switchboard_platform::token_vault::TokenVault;
use switchboard_store::{
    ApiKeyRecord, ChannelRecord, PhoneRoute, Store, StoreError, Tenant, UserRecord, UserStatus,
    WabaRoute, normalize_email,
};
use time::OffsetDateTime;

/// The demo tenant with its admin, its API key and its WhatsApp number connected as Embedded
/// Signup would leave it: phone and WABA routes, the channel, and `business_token` sealed as
/// the WABA's token.
pub async fn seed_demo_tenant(
    store: &Store,
    vault: &TokenVault,
    demo: &DemoTenant,
    business_token: &str,
) -> anyhow::Result<()> {
    let tenant_id = seed_tenant(store, &demo.tenant_id, &demo.name, &demo.api_key).await?;
    seed_user(
        store,
        &tenant_id,
        "Demo Admin",
        &demo.admin_email,
        &demo.admin_password,
        Role::Admin,
    )
    .await
    .context("creating the demo admin")?;
    // Created only if no tenant holds the number (re-seeding the same tenant is fine): a
    // number never changes owner here, only through `Store::move_phone_route`.
    match store
        .put_phone_route(&PhoneRoute {
            phone_number_id: PhoneNumberId::new(demo.phone_number_id.clone()),
            tenant_id: tenant_id.clone(),
            waba_id: demo.waba_id.clone(),
            display_phone_number: demo.display_phone_number.clone(),
            messages_per_second: None,
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
    }?;
    seed_waba(store, vault, &tenant_id, &demo.waba_id, business_token).await?;
    store
        .put_channel(&ChannelRecord {
            tenant_id: tenant_id.clone(),
            kind: "whatsapp".into(),
            phone_number_id: demo.phone_number_id.clone(),
            waba_id: demo.waba_id.clone(),
            verification_status: Some("VERIFIED".into()),
            connected_at: OffsetDateTime::now_utc(),
            connected_by: None,
        })
        .await
        .context("recording the demo channel")
}

/// The WABA connected to the tenant: its route (webhooks without a phone number) and its
/// business token, sealed by the vault as Embedded Signup stores it.
pub async fn seed_waba(
    store: &Store,
    vault: &TokenVault,
    tenant: &TenantId,
    waba_id: &str,
    business_token: &str,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        store
            .put_waba_route(&WabaRoute {
                waba_id: waba_id.to_owned(),
                tenant_id: tenant.clone(),
            })
            .await?,
        "WABA {waba_id} is routed to another tenant"
    );
    store_business_token(
        store,
        vault,
        tenant,
        waba_id,
        &Secret::new(business_token.to_owned()),
        OffsetDateTime::now_utc(),
    )
    .await
    .context("sealing the WABA's business token")?;
    Ok(())
}

/// A tenant and one API key for it with every scope (stored as its SHA-256, as the API looks
/// it up), no phone number and no people. Returns the tenant id.
pub async fn seed_tenant(
    store: &Store,
    tenant_id: &str,
    name: &str,
    api_key: &str,
) -> anyhow::Result<TenantId> {
    let now = OffsetDateTime::now_utc();
    let tenant_id = TenantId::new(tenant_id);
    if store.get_tenant(&tenant_id).await?.is_none() {
        store
            .put_tenant(&Tenant::new(tenant_id.clone(), name, now))
            .await
            .context("creating the tenant")?;
    }
    seed_api_key(store, &tenant_id, api_key, &Scope::ALL).await?;
    Ok(tenant_id)
}

/// An API key with `scopes` for the tenant, unless that key is already the tenant's.
pub async fn seed_api_key(
    store: &Store,
    tenant: &TenantId,
    api_key: &str,
    scopes: &[Scope],
) -> anyhow::Result<()> {
    let hash = secret_digest(api_key);
    match store.find_api_key(&hash).await? {
        Some(existing) if &existing.tenant_id == tenant => return Ok(()),
        Some(_) => anyhow::bail!("the API key is already registered to another tenant"),
        None => {}
    }
    store
        .put_api_key(&ApiKeyRecord {
            key_hash: hash,
            id: ApiKeyId::generate(),
            tenant_id: tenant.clone(),
            name: "dev key".into(),
            scopes: scopes.to_vec(),
            prefix: api_key.chars().take(12).collect(),
            created_by: None,
            created_at: OffsetDateTime::now_utc(),
            last_used_at: None,
            revoked_at: None,
        })
        .await
        .context("creating the API key")
}

/// An active person with a password in the tenant, unless the address already signs in.
/// Returns the user's id.
pub async fn seed_user(
    store: &Store,
    tenant: &TenantId,
    name: &str,
    email: &str,
    password: &str,
    role: Role,
) -> anyhow::Result<UserId> {
    if let Some(claim) = store.find_email(email).await? {
        anyhow::ensure!(
            &claim.tenant_id == tenant,
            "{email} already signs in to another tenant"
        );
        return Ok(claim.user_id);
    }
    let now = OffsetDateTime::now_utc();
    let password = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || bcrypt::hash(password, 12)).await??;
    let user = UserRecord {
        id: UserId::generate(),
        tenant_id: tenant.clone(),
        name: name.to_owned(),
        email: normalize_email(email),
        role,
        status: UserStatus::Active,
        password_hash: Some(hash),
        invitation_digest: None,
        invitation_expires_at: None,
        token_generation: 0,
        created_at: now,
        updated_at: now,
    };
    store.create_user(&user).await?;
    Ok(user.id)
}
