//! The records a send decides on, read in one request. Accepting a message (the API) and
//! sending it (the outbound function) each need the tenant, the number's route, the contact
//! and the conversation, and a campaign's message its campaign; one BatchGetItem reads them
//! all, strongly consistent, instead of one GetItem each: the same records and the same read
//! units, for one request and one round trip.

use crate::campaign::CampaignRecord;
use crate::contact::{ContactRecord, contact_from_item};
use crate::conversation::ConversationRecord;
use crate::error::{StoreError, from_sdk};
use crate::item::{Item, from_item, key, string_attribute};
use crate::keys;
use crate::phone_route::PhoneRoute;
use crate::store::Store;
use crate::tenant::Tenant;
use aws_sdk_dynamodb::types::KeysAndAttributes;
use std::collections::HashMap;
use std::time::Duration;
use switchboard_domain::{ContactKey, ConversationId, PhoneNumberId, TenantId};

/// DynamoDB may leave keys unprocessed when it throttles; they are asked for again after these
/// waits, then the read fails as retryable.
const UNPROCESSED_BACKOFF: [Duration; 3] = [
    Duration::from_millis(20),
    Duration::from_millis(60),
    Duration::from_millis(150),
];

/// What to read for one tenant: each `Some` (or `true`) is one item.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lookup<'a> {
    /// The tenant's own record.
    pub tenant: bool,
    /// The number's route (a global item: who holds the number now).
    pub phone_route: Option<&'a PhoneNumberId>,
    pub contact: Option<&'a ContactKey>,
    pub conversation: Option<&'a ConversationId>,
    pub campaign: Option<&'a str>,
}

/// What [`Store::look_up`] found: `None` where the item does not exist or was not asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    pub tenant: Option<Tenant>,
    pub phone_route: Option<PhoneRoute>,
    pub contact: Option<ContactRecord>,
    pub conversation: Option<ConversationRecord>,
    pub campaign: Option<CampaignRecord>,
}

impl Store {
    /// Reads what `lookup` names in one BatchGetItem, strongly consistent: each record exactly
    /// as its own read (`get_tenant`, `find_phone_route`, `get_contact`, `get_conversation`,
    /// `get_campaign`) returns it.
    pub async fn look_up(
        &self,
        tenant: &TenantId,
        lookup: &Lookup<'_>,
    ) -> Result<Found, StoreError> {
        let tenant_key = lookup
            .tenant
            .then(|| Ok::<_, StoreError>((keys::tenant_pk(tenant)?, keys::TENANT_SK.to_owned())))
            .transpose()?;
        let route_key = lookup
            .phone_route
            .map(|pnid| {
                Ok::<_, StoreError>((
                    keys::phone_route_pk(pnid.as_str())?,
                    keys::ROUTE_SK.to_owned(),
                ))
            })
            .transpose()?;
        let contact_key = lookup
            .contact
            .map(|c| {
                Ok::<_, StoreError>((keys::contact_pk(tenant, c)?, keys::CONTACT_SK.to_owned()))
            })
            .transpose()?;
        let conversation_key = lookup
            .conversation
            .map(|c| {
                Ok::<_, StoreError>((
                    keys::conversation_pk(tenant, c)?,
                    keys::CONVERSATION_SK.to_owned(),
                ))
            })
            .transpose()?;
        let campaign_key = lookup
            .campaign
            .map(|c| {
                Ok::<_, StoreError>((keys::campaign_pk(tenant, c)?, keys::CAMPAIGN_SK.to_owned()))
            })
            .transpose()?;
        let wanted: Vec<(String, String)> = [
            &tenant_key,
            &route_key,
            &contact_key,
            &conversation_key,
            &campaign_key,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
        let mut items = self.batch_get("look_up", wanted).await?;
        let mut take = |k: &Option<(String, String)>| k.as_ref().and_then(|k| items.remove(k));
        Ok(Found {
            tenant: take(&tenant_key).map(from_item).transpose()?,
            phone_route: take(&route_key).map(from_item).transpose()?,
            contact: take(&contact_key)
                .map(|item| contact_from_item(item, tenant))
                .transpose()?,
            conversation: take(&conversation_key).map(from_item).transpose()?,
            campaign: take(&campaign_key).map(from_item).transpose()?,
        })
    }

    /// The items of `wanted` that exist, by key. At most 100 keys (DynamoDB's limit for one
    /// request); callers ask for a handful.
    async fn batch_get(
        &self,
        operation: &'static str,
        wanted: Vec<(String, String)>,
    ) -> Result<HashMap<(String, String), Item>, StoreError> {
        let mut found = HashMap::new();
        if wanted.is_empty() {
            return Ok(found);
        }
        let mut keys = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(
                    wanted
                        .iter()
                        .map(|(pk, sk)| key(pk.as_str(), sk.as_str()))
                        .collect(),
                ))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::Encode(e.to_string()))?,
        );
        let mut attempt = 0;
        while let Some(request) = keys.take() {
            let out = self
                .client
                .batch_get_item()
                .request_items(self.table.as_ref(), request)
                .send()
                .await
                .map_err(|e| from_sdk(operation, e))?;
            for item in out
                .responses
                .and_then(|mut r| r.remove(self.table.as_ref()))
                .unwrap_or_default()
            {
                let item_key = (
                    string_attribute(&item, keys::PK)
                        .unwrap_or_default()
                        .to_owned(),
                    string_attribute(&item, keys::SK)
                        .unwrap_or_default()
                        .to_owned(),
                );
                found.insert(item_key, item);
            }
            let unprocessed = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(self.table.as_ref()))
                .filter(|k| !k.keys().is_empty());
            if let Some(unprocessed) = unprocessed {
                let Some(wait) = UNPROCESSED_BACKOFF.get(attempt) else {
                    return Err(StoreError::Dynamo {
                        operation,
                        code: "UnprocessedKeys".to_owned(),
                        message: "DynamoDB left keys unprocessed after every retry".to_owned(),
                        retryable: true,
                    });
                };
                tokio::time::sleep(*wait).await;
                attempt += 1;
                keys = Some(unprocessed);
            }
        }
        Ok(found)
    }
}
