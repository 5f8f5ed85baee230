//! Campaigns: one approved template sent to a list of recipients, now or at a time.
//!
//! The campaign item holds what to send and how far dispatch got; the recipients are kept in
//! chunks of [`CAMPAIGN_CHUNK_SIZE`] beside it, each dispatched by one job. Every recipient
//! becomes an ordinary outbound message tagged with the campaign (its index key names the
//! campaign), so each one meets the same policy gate and pace as any other send, and the
//! campaign's counts are read from its messages: exact, never a counter that can drift.

use crate::cursor::Cursors;
use crate::error::{StoreError, from_sdk};
use crate::expression::{Placeholders, UpdateExpression};
use crate::item::{Item, from_item, keyed, n, s};
use crate::keys;
use crate::listing::IndexListing;
use crate::page::Page;
use crate::store::{Conditional, Store};
use crate::timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use switchboard_domain::{ContactKey, PhoneNumberId, TenantId};
use time::OffsetDateTime;

/// Recipients per chunk item: 100 recipients with their parameters stay far below
/// DynamoDB's 400 KB item limit, and one job dispatches them well within its timeout.
pub const CAMPAIGN_CHUNK_SIZE: usize = 100;
/// The most recipients one campaign may name.
pub const MAX_CAMPAIGN_RECIPIENTS: usize = 10_000;
/// How long the recipient list is kept after the campaign's send time: long enough for every
/// retry and deferral of its dispatch, no longer (it is a list of phone numbers).
pub const CHUNK_RETENTION_DAYS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignRecipient {
    pub to: ContactKey,
    /// Meta's template `components` for this recipient, as JSON; `None` uses the campaign's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<serde_json::Value>,
}

/// The campaign as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignRecord {
    pub id: String,
    pub name: String,
    pub phone_number_id: PhoneNumberId,
    pub template_name: String,
    pub template_language: String,
    /// Meta's template `components` shared by every recipient without their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<serde_json::Value>,
    pub recipients: u32,
    pub chunks: u32,
    #[serde(with = "crate::timestamp")]
    pub send_at: OffsetDateTime,
    #[serde(with = "crate::timestamp")]
    pub created_at: OffsetDateTime,
    /// When dispatch began: the pace of the later chunks is counted from here.
    #[serde(default, with = "crate::timestamp::option")]
    pub started_at: Option<OffsetDateTime>,
    /// Chunks whose recipients are all queued.
    #[serde(default)]
    pub dispatched_chunks: u32,
    #[serde(default, with = "crate::timestamp::option")]
    pub dispatched_at: Option<OffsetDateTime>,
    /// When the campaign was cancelled: no chunk is dispatched after it, and its messages not
    /// yet sent are refused right before their send.
    #[serde(default, with = "crate::timestamp::option")]
    pub cancelled_at: Option<OffsetDateTime>,
}

/// Messages of a campaign by status, read from the messages themselves.
pub type CampaignCounts = BTreeMap<String, u32>;

pub enum CampaignCreated {
    New,
    /// A campaign with this id exists (a retried request); nothing was written.
    Exists(Box<CampaignRecord>),
}

impl Store {
    /// Stores the recipient chunks, then the campaign. The chunks go first so that a campaign
    /// that exists always has all of them; a retry writes the same chunks again and meets the
    /// campaign already there.
    pub async fn create_campaign(
        &self,
        tenant: &TenantId,
        campaign: &CampaignRecord,
        recipients: &[CampaignRecipient],
        retention_months: u16,
    ) -> Result<CampaignCreated, StoreError> {
        let pk = keys::campaign_pk(tenant, &campaign.id)?;
        let chunk_expiry =
            (campaign.send_at + time::Duration::days(CHUNK_RETENTION_DAYS)).unix_timestamp();
        let campaign_expiry = (campaign.created_at
            + time::Duration::days(30 * i64::from(retention_months.max(1))))
        .unix_timestamp();
        for (index, chunk) in recipients.chunks(CAMPAIGN_CHUNK_SIZE).enumerate() {
            let mut item = keyed(
                &ChunkItem {
                    recipients: chunk.to_vec(),
                },
                "campaign_chunk",
                pk.clone(),
                keys::campaign_chunk_sk(index as u32),
            )?;
            item.insert(keys::EXPIRES_AT.to_owned(), n(chunk_expiry));
            self.put("create_campaign", item).await?;
        }
        let mut item = keyed(
            campaign,
            "campaign",
            pk.clone(),
            keys::CAMPAIGN_SK.to_owned(),
        )?;
        item.insert(keys::EXPIRES_AT.to_owned(), n(campaign_expiry));
        item.insert(keys::GSI1PK.to_owned(), s(keys::campaigns_gsi1pk(tenant)?));
        item.insert(
            keys::GSI1SK.to_owned(),
            s(format!(
                "{}#{}",
                timestamp::encode(campaign.created_at)?,
                campaign.id
            )),
        );
        let mut p = Placeholders::default();
        let condition = format!("attribute_not_exists({})", p.name(keys::PK));
        match self.put_if("create_campaign", item, &condition, &p).await? {
            Conditional::Written => Ok(CampaignCreated::New),
            Conditional::ConditionFailed(Some(old)) => {
                Ok(CampaignCreated::Exists(Box::new(from_item(old)?)))
            }
            Conditional::ConditionFailed(None) => Err(StoreError::Contended {
                operation: "create_campaign",
            }),
        }
    }

    pub async fn get_campaign(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<CampaignRecord>, StoreError> {
        let pk = keys::campaign_pk(tenant, id)?;
        self.get("get_campaign", pk, keys::CAMPAIGN_SK)
            .await?
            .map(from_item)
            .transpose()
    }

    /// The recipients of one chunk; `None` past the last one.
    pub async fn campaign_chunk(
        &self,
        tenant: &TenantId,
        id: &str,
        index: u32,
    ) -> Result<Option<Vec<CampaignRecipient>>, StoreError> {
        let pk = keys::campaign_pk(tenant, id)?;
        let item = self
            .get("campaign_chunk", pk, &keys::campaign_chunk_sk(index))
            .await?;
        Ok(item
            .map(from_item::<ChunkItem>)
            .transpose()?
            .map(|c| c.recipients))
    }

    /// Notes when dispatch began (the first call wins) and returns the campaign as it is now.
    pub async fn start_campaign(
        &self,
        tenant: &TenantId,
        id: &str,
        at: OffsetDateTime,
    ) -> Result<CampaignRecord, StoreError> {
        let pk = keys::campaign_pk(tenant, id)?;
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        let started = p.name("started_at");
        u.set(format!(
            "{started} = if_not_exists({started}, {})",
            p.value("at", s(timestamp::encode(at)?))
        ));
        let condition = format!("attribute_exists({})", p.name(keys::PK));
        self.update_if(
            "start_campaign",
            pk.clone(),
            keys::CAMPAIGN_SK,
            &u.build(),
            Some(&condition),
            &p,
        )
        .await?;
        self.get("start_campaign", pk, keys::CAMPAIGN_SK)
            .await?
            .map(from_item)
            .transpose()?
            .ok_or(StoreError::NotFound { what: "campaign" })
    }

    /// Cancels the campaign (the first cancellation's time stays) and returns it as it is
    /// now; `None` when there is no such campaign.
    pub async fn cancel_campaign(
        &self,
        tenant: &TenantId,
        id: &str,
        at: OffsetDateTime,
    ) -> Result<Option<CampaignRecord>, StoreError> {
        let pk = keys::campaign_pk(tenant, id)?;
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        let cancelled = p.name("cancelled_at");
        u.set(format!(
            "{cancelled} = if_not_exists({cancelled}, {})",
            p.value("at", s(timestamp::encode(at)?))
        ));
        let condition = format!("attribute_exists({})", p.name(keys::PK));
        let written = self
            .update_if(
                "cancel_campaign",
                pk.clone(),
                keys::CAMPAIGN_SK,
                &u.build(),
                Some(&condition),
                &p,
            )
            .await?;
        if !matches!(written, Conditional::Written) {
            return Ok(None);
        }
        self.get("cancel_campaign", pk, keys::CAMPAIGN_SK)
            .await?
            .map(from_item)
            .transpose()
    }

    /// Records that chunk `index` is dispatched. Progress only moves forward.
    pub async fn record_chunk_dispatched(
        &self,
        tenant: &TenantId,
        id: &str,
        index: u32,
        last: bool,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let pk = keys::campaign_pk(tenant, id)?;
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        let done = p.name("dispatched_chunks");
        let value = p.value("done", n(i64::from(index) + 1));
        u.set(format!("{done} = {value}"));
        if last {
            u.set(format!(
                "{} = {}",
                p.name("dispatched_at"),
                p.value("at", s(timestamp::encode(at)?))
            ));
        }
        let condition = format!(
            "attribute_exists({}) AND (attribute_not_exists({done}) OR {done} < {value})",
            p.name(keys::PK)
        );
        // A lower chunk finishing after a higher one (a retry) leaves the progress alone.
        self.update_if(
            "record_chunk_dispatched",
            pk,
            keys::CAMPAIGN_SK,
            &u.build(),
            Some(&condition),
            &p,
        )
        .await?;
        Ok(())
    }

    /// The tenant's campaigns, newest first, a page at a time.
    pub async fn list_campaigns(
        &self,
        tenant: &TenantId,
        limit: i32,
        cursor: Option<&str>,
        cursors: Cursors<'_>,
    ) -> Result<Page<CampaignRecord>, StoreError> {
        self.list_index_of(
            IndexListing {
                operation: "list_campaigns",
                gsi1pk: keys::campaigns_gsi1pk(tenant)?,
                pk_prefix: keys::tenant_prefix(tenant)?,
                sk: keys::CAMPAIGN_SK,
                newest_first: true,
            },
            limit,
            cursor,
            cursors,
        )
        .await
    }

    /// How many of the campaign's messages are in each status. Reads the campaign's index
    /// partition, projecting only the status: 10,000 recipients are about ten pages.
    pub async fn campaign_counts(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<CampaignCounts, StoreError> {
        let mut counts = CampaignCounts::new();
        let prefix = keys::tenant_prefix(tenant)?;
        let mut start: Option<Item> = None;
        loop {
            let mut p = Placeholders::default();
            let condition = format!(
                "{} = {}",
                p.name(keys::GSI1PK),
                p.value("gsi1pk", s(keys::campaign_messages_gsi1pk(tenant, id)?))
            );
            let projection = format!("{}, {}", p.name("status"), p.name(keys::PK));
            let out = self
                .client
                .query()
                .table_name(self.table.as_ref())
                .index_name(keys::GSI1)
                .key_condition_expression(condition)
                .projection_expression(projection)
                .set_expression_attribute_names(p.names())
                .set_expression_attribute_values(p.values())
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| from_sdk("campaign_counts", e))?;
            for item in out.items.unwrap_or_default() {
                let ours = crate::item::string_attribute(&item, keys::PK)
                    .is_some_and(|pk| pk.starts_with(&prefix));
                if let (true, Some(status)) = (ours, crate::item::string_attribute(&item, "status"))
                {
                    *counts.entry(status.to_owned()).or_default() += 1;
                }
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(counts)
    }
}

#[derive(Serialize, Deserialize)]
struct ChunkItem {
    recipients: Vec<CampaignRecipient>,
}
