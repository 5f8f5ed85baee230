//! Connected WhatsApp channels: per number what onboarding may keep (WABA id, phone number id,
//! verification status), per WABA the business token sealed by the token vault, and the
//! global WABA route that sends WABA-level webhooks to the tenant.

use crate::cursor::Cursors;
use crate::error::StoreError;
use crate::expression::Placeholders;
use crate::item::{from_item, keyed, s};
use crate::keys;
use crate::listing::IndexListing;
use crate::page::Page;
use crate::store::{Conditional, Store};
use serde::{Deserialize, Serialize};
use switchboard_domain::TenantId;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelRecord {
    pub tenant_id: TenantId,
    /// `whatsapp`.
    pub kind: String,
    pub phone_number_id: String,
    pub waba_id: String,
    /// Meta's `code_verification_status` when the number was connected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_status: Option<String>,
    #[serde(with = "crate::timestamp")]
    pub connected_at: OffsetDateTime,
    /// `user:{id}` or `api_key:{id}`, or absent when seeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected_by: Option<String>,
}

/// The business token a tenant granted for a WABA, as the vault sealed it (JSON of
/// `SealedSecret`). Never plaintext.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WabaTokenRecord {
    pub tenant_id: TenantId,
    pub waba_id: String,
    pub sealed_token: String,
    #[serde(with = "crate::timestamp")]
    pub stored_at: OffsetDateTime,
}

impl std::fmt::Debug for WabaTokenRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WabaTokenRecord")
            .field("tenant_id", &self.tenant_id)
            .field("waba_id", &self.waba_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WabaRoute {
    pub waba_id: String,
    pub tenant_id: TenantId,
}

impl Store {
    pub async fn put_channel(&self, channel: &ChannelRecord) -> Result<(), StoreError> {
        let mut item = keyed(
            channel,
            "channel",
            keys::channel_pk(&channel.tenant_id, &channel.kind, &channel.phone_number_id)?,
            keys::CHANNEL_SK,
        )?;
        item.insert(
            keys::GSI1PK.to_owned(),
            s(keys::channels_gsi1pk(&channel.tenant_id)?),
        );
        item.insert(
            keys::GSI1SK.to_owned(),
            s(format!("{}#{}", channel.kind, channel.phone_number_id)),
        );
        self.put("put_channel", item).await
    }

    pub async fn get_channel(
        &self,
        tenant: &TenantId,
        kind: &str,
        phone_number_id: &str,
    ) -> Result<Option<ChannelRecord>, StoreError> {
        self.get(
            "get_channel",
            keys::channel_pk(tenant, kind, phone_number_id)?,
            keys::CHANNEL_SK,
        )
        .await?
        .map(from_item)
        .transpose()
    }

    pub async fn list_channels(
        &self,
        tenant: &TenantId,
        limit: i32,
        cursor: Option<&str>,
        cursors: Cursors<'_>,
    ) -> Result<Page<ChannelRecord>, StoreError> {
        self.list_index_of(
            IndexListing {
                operation: "list_channels",
                gsi1pk: keys::channels_gsi1pk(tenant)?,
                pk_prefix: keys::tenant_prefix(tenant)?,
                sk: keys::CHANNEL_SK,
                newest_first: false,
            },
            limit,
            cursor,
            cursors,
        )
        .await
    }

    pub async fn delete_channel(
        &self,
        tenant: &TenantId,
        kind: &str,
        phone_number_id: &str,
    ) -> Result<(), StoreError> {
        self.delete_if(
            "delete_channel",
            keys::channel_pk(tenant, kind, phone_number_id)?,
            keys::CHANNEL_SK,
            None,
            &Placeholders::default(),
        )
        .await?;
        Ok(())
    }

    pub async fn put_waba_token(&self, token: &WabaTokenRecord) -> Result<(), StoreError> {
        let item = keyed(
            token,
            "waba_token",
            keys::waba_token_pk(&token.tenant_id, &token.waba_id)?,
            keys::WABA_TOKEN_SK,
        )?;
        self.put("put_waba_token", item).await
    }

    pub async fn get_waba_token(
        &self,
        tenant: &TenantId,
        waba_id: &str,
    ) -> Result<Option<WabaTokenRecord>, StoreError> {
        let record: Option<WabaTokenRecord> = self
            .get(
                "get_waba_token",
                keys::waba_token_pk(tenant, waba_id)?,
                keys::WABA_TOKEN_SK,
            )
            .await?
            .map(from_item)
            .transpose()?;
        Ok(record.filter(|r| &r.tenant_id == tenant))
    }

    /// Destroys the sealed token: nothing can send for the WABA any more.
    pub async fn delete_waba_token(
        &self,
        tenant: &TenantId,
        waba_id: &str,
    ) -> Result<(), StoreError> {
        self.delete_if(
            "delete_waba_token",
            keys::waba_token_pk(tenant, waba_id)?,
            keys::WABA_TOKEN_SK,
            None,
            &Placeholders::default(),
        )
        .await?;
        Ok(())
    }

    /// Routes the WABA's own webhooks to `tenant`: created where no tenant holds it, kept
    /// when it already is the tenant's, refused (`NotFound` of the owner is not told) when
    /// another tenant holds it.
    pub async fn put_waba_route(&self, route: &WabaRoute) -> Result<bool, StoreError> {
        let mut item = keyed(
            route,
            "waba_route",
            keys::waba_route_pk(&route.waba_id)?,
            keys::ROUTE_SK,
        )?;
        item.insert(keys::GSI1PK.to_owned(), s(keys::WABAS_GSI1PK));
        item.insert(keys::GSI1SK.to_owned(), s(route.waba_id.as_str()));
        let mut p = Placeholders::default();
        let condition = format!(
            "attribute_not_exists({pk}) OR {tenant} = {t}",
            pk = p.name(keys::PK),
            tenant = p.name("tenant_id"),
            t = p.value("t", s(route.tenant_id.as_str())),
        );
        Ok(matches!(
            self.put_if("put_waba_route", item, &condition, &p).await?,
            Conditional::Written
        ))
    }

    pub async fn find_waba_route(&self, waba_id: &str) -> Result<Option<WabaRoute>, StoreError> {
        self.get(
            "find_waba_route",
            keys::waba_route_pk(waba_id)?,
            keys::ROUTE_SK,
        )
        .await?
        .map(from_item)
        .transpose()
    }

    /// Every connected WABA with its tenant, by WABA id. For jobs that visit each WABA (the
    /// template sync), not for requests: it spans tenants.
    pub async fn list_waba_routes(
        &self,
        limit: i32,
        cursor: Option<&str>,
        cursors: Cursors<'_>,
    ) -> Result<Page<WabaRoute>, StoreError> {
        self.list_index_of(
            IndexListing {
                operation: "list_waba_routes",
                gsi1pk: keys::WABAS_GSI1PK.to_owned(),
                pk_prefix: "WABA#".to_owned(),
                sk: keys::ROUTE_SK,
                newest_first: false,
            },
            limit,
            cursor,
            cursors,
        )
        .await
    }

    /// Removes the WABA route while `tenant` holds it.
    pub async fn delete_waba_route(
        &self,
        tenant: &TenantId,
        waba_id: &str,
    ) -> Result<(), StoreError> {
        let mut p = Placeholders::default();
        let condition = format!(
            "{} = {}",
            p.name("tenant_id"),
            p.value("t", s(tenant.as_str()))
        );
        self.delete_if(
            "delete_waba_route",
            keys::waba_route_pk(waba_id)?,
            keys::ROUTE_SK,
            Some(&condition),
            &p,
        )
        .await?;
        Ok(())
    }
}
