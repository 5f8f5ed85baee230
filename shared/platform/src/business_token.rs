//! The tenant's Meta business token: sealed by the token vault and kept per WABA in the store;
//! opened only where a Graph call needs it, never logged or returned.

use crate::token_vault::{SealedSecret, TokenPurpose, TokenVault, VaultError};
use switchboard_domain::{Secret, TenantId};
use switchboard_store::{Store, StoreError, WabaTokenRecord};
use time::OffsetDateTime;

#[derive(Debug, thiserror::Error)]
pub enum BusinessTokenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error("the stored token record is malformed")]
    Malformed,
}

impl BusinessTokenError {
    pub fn is_retryable(&self) -> bool {
        match self {
            BusinessTokenError::Store(e) => e.is_retryable(),
            BusinessTokenError::Vault(e) => e.is_retryable(),
            BusinessTokenError::Malformed => false,
        }
    }
}

pub async fn store_business_token(
    store: &Store,
    vault: &TokenVault,
    tenant: &TenantId,
    waba_id: &str,
    token: &Secret,
    now: OffsetDateTime,
) -> Result<(), BusinessTokenError> {
    let sealed = vault
        .seal(tenant, TokenPurpose::WhatsAppBusinessToken, token)
        .await?;
    let sealed_token = serde_json::to_string(&sealed).map_err(|_| BusinessTokenError::Malformed)?;
    store
        .put_waba_token(&WabaTokenRecord {
            tenant_id: tenant.clone(),
            waba_id: waba_id.to_owned(),
            sealed_token,
            stored_at: now,
        })
        .await?;
    Ok(())
}

/// The tenant's token for the WABA; `None` when the tenant has not connected it.
pub async fn business_token(
    store: &Store,
    vault: &TokenVault,
    tenant: &TenantId,
    waba_id: &str,
) -> Result<Option<Secret>, BusinessTokenError> {
    let Some(record) = store.get_waba_token(tenant, waba_id).await? else {
        return Ok(None);
    };
    let sealed: SealedSecret =
        serde_json::from_str(&record.sealed_token).map_err(|_| BusinessTokenError::Malformed)?;
    Ok(Some(
        vault
            .open(tenant, TokenPurpose::WhatsAppBusinessToken, &sealed)
            .await?,
    ))
}
