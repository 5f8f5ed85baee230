//! Delivery statuses. Meta sends them at least once and in any order, sometimes before we have
//! recorded the wamid of the message they are about. A status only moves forward (a condition on
//! the stored rank), each status's timestamp is kept whatever the arrival order, and a status for
//! an unknown wamid waits in a pending record until `mark_sent` claims it.

use crate::decision::PolicyDecisionRecord;
use crate::error::{StoreError, from_sdk};
use crate::expression::{Placeholders, UpdateExpression};
use crate::item::{from_item, keyed, n, number_attribute, s, to_value};
use crate::keys;
use crate::message::STATUS_RANK;
use crate::pointer::MessageLocation;
use crate::store::{Conditional, Store};
use crate::timestamp;
use serde::{Deserialize, Serialize};
use switchboard_domain::{MessageStatus, TenantId, Wamid};
use time::{Duration, OffsetDateTime};

/// How long a status for an unknown wamid waits for its message. Meta's statuses follow a send
/// within seconds; a week covers retries of a slow outbound queue with room to spare.
pub const PENDING_STATUS_RETENTION: Duration = Duration::days(7);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryError {
    pub code: i64,
    pub title: Option<String>,
    pub details: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub wamid: Wamid,
    pub status: MessageStatus,
    /// Meta's timestamp of the status.
    pub at: OffsetDateTime,
    pub error: Option<DeliveryError>,
    pub pricing_json: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusApplied {
    /// The message moved to this status.
    Advanced,
    /// The message is already at or beyond it; at most this status's timestamp was recorded.
    Stale,
    /// The wamid is not known yet; the status is kept until the message is marked sent.
    Pending,
}

/// The attribute holding the time a message reached `status`.
fn timestamp_attribute(status: MessageStatus) -> Option<&'static str> {
    match status {
        MessageStatus::Sent => Some("sent_at"),
        MessageStatus::Delivered => Some("delivered_at"),
        MessageStatus::Read => Some("read_at"),
        MessageStatus::Played => Some("played_at"),
        MessageStatus::Failed => Some("failed_at"),
        MessageStatus::Denied => Some("denied_at"),
        MessageStatus::Queued | MessageStatus::Deferred | MessageStatus::Received => None,
    }
}

/// One status to write onto a message item.
pub(crate) struct StatusUpdate<'a> {
    pub(crate) status: MessageStatus,
    pub(crate) at: OffsetDateTime,
    pub(crate) error: Option<&'a DeliveryError>,
    pub(crate) pricing_json: Option<&'a str>,
    /// The policy's decision that let the message go (the outbound function's own send or
    /// failure), stored with the status in the same write.
    pub(crate) decision: Option<&'a PolicyDecisionRecord>,
}

impl<'a> From<&'a StatusChange> for StatusUpdate<'a> {
    fn from(s: &'a StatusChange) -> Self {
        Self {
            status: s.status,
            at: s.at,
            error: s.error.as_ref(),
            pricing_json: s.pricing_json.as_deref(),
            decision: None,
        }
    }
}

/// A status that arrived before its wamid was known.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PendingStatus {
    status: MessageStatus,
    #[serde(with = "crate::timestamp")]
    at: OffsetDateTime,
    error: Option<DeliveryError>,
    pricing_json: Option<String>,
}

impl Store {
    pub async fn apply_status(
        &self,
        tenant: &TenantId,
        s: &StatusChange,
    ) -> Result<StatusApplied, StoreError> {
        if let Some(pointer) = self.wamid_pointer(tenant, &s.wamid).await? {
            return self
                .apply_to_message(&pointer.location(tenant)?, &s.into())
                .await;
        }
        self.keep_pending_status(tenant, s).await?;
        // Write, then look again: `mark_sent` writes the pointer, then looks for pending
        // statuses. Whichever of the two runs second sees the other's write, so a status is
        // never stranded; when both see each other, applying twice is harmless.
        match self.wamid_pointer(tenant, &s.wamid).await? {
            Some(pointer) => {
                let applied = self
                    .apply_to_message(&pointer.location(tenant)?, &s.into())
                    .await?;
                self.delete_pending_status(tenant, &s.wamid, s.status)
                    .await?;
                Ok(applied)
            }
            None => Ok(StatusApplied::Pending),
        }
    }

    /// Moves the message to `u.status` if that is forward, and records the status's timestamp
    /// (first arrival wins) either way.
    pub(crate) async fn apply_to_message(
        &self,
        location: &MessageLocation,
        u: &StatusUpdate<'_>,
    ) -> Result<StatusApplied, StoreError> {
        let Some(time_attribute) = timestamp_attribute(u.status) else {
            return Ok(StatusApplied::Stale);
        };
        let at = s(timestamp::encode(u.at)?);
        let rank = i64::from(u.status.rank());

        let mut p = Placeholders::default();
        let mut advance = UpdateExpression::default();
        let ts = p.name(time_attribute);
        advance.set(format!(
            "{} = {}",
            p.name("status"),
            p.value("status", s(u.status.as_str()))
        ));
        let rank_name = p.name(STATUS_RANK);
        let rank_value = p.value("rank", n(rank));
        advance.set(format!("{rank_name} = {rank_value}"));
        advance.set(format!(
            "{ts} = if_not_exists({ts}, {})",
            p.value("at", at.clone())
        ));
        if let Some(error) = u.error {
            advance.set(format!(
                "{} = {}",
                p.name("error"),
                p.value("error", to_value(error)?)
            ));
        }
        if let Some(pricing) = u.pricing_json {
            advance.set(format!(
                "{} = {}",
                p.name("pricing_json"),
                p.value("pricing", s(pricing))
            ));
        }
        if let Some(decision) = u.decision {
            advance.set(format!(
                "{} = {}",
                p.name("decision"),
                p.value("decision", to_value(decision)?)
            ));
        }
        let pk_name = p.name(keys::PK);
        let condition = format!("attribute_exists({pk_name}) AND {rank_name} < {rank_value}");
        let advanced = self
            .update_if(
                "apply_status",
                location.pk.clone(),
                &location.sk,
                &advance.build(),
                Some(&condition),
                &p,
            )
            .await?;
        if matches!(advanced, Conditional::Written) {
            return Ok(StatusApplied::Advanced);
        }

        // Not forward: keep what this status tells us without moving the status back.
        let mut p = Placeholders::default();
        let mut record = UpdateExpression::default();
        let ts = p.name(time_attribute);
        record.set(format!("{ts} = if_not_exists({ts}, {})", p.value("at", at)));
        if let Some(error) = u.error {
            let name = p.name("error");
            record.set(format!(
                "{name} = if_not_exists({name}, {})",
                p.value("error", to_value(error)?)
            ));
        }
        if let Some(pricing) = u.pricing_json {
            let name = p.name("pricing_json");
            record.set(format!(
                "{name} = if_not_exists({name}, {})",
                p.value("pricing", s(pricing))
            ));
        }
        // The decision was taken while the message waited, before whatever moved it on:
        // it is the message's latest either way.
        if let Some(decision) = u.decision {
            record.set(format!(
                "{} = {}",
                p.name("decision"),
                p.value("decision", to_value(decision)?)
            ));
        }
        let condition = format!("attribute_exists({})", p.name(keys::PK));
        match self
            .update_if(
                "apply_status",
                location.pk.clone(),
                &location.sk,
                &record.build(),
                Some(&condition),
                &p,
            )
            .await?
        {
            Conditional::Written => Ok(StatusApplied::Stale),
            Conditional::ConditionFailed(_) => Err(StoreError::NotFound { what: "message" }),
        }
    }

    async fn keep_pending_status(
        &self,
        tenant: &TenantId,
        change: &StatusChange,
    ) -> Result<(), StoreError> {
        let pending = PendingStatus {
            status: change.status,
            at: change.at,
            error: change.error.clone(),
            pricing_json: change.pricing_json.clone(),
        };
        let mut item = keyed(
            &pending,
            "pending_status",
            keys::wamid_pk(tenant, &change.wamid)?,
            keys::pending_status_sk(change.status),
        )?;
        item.insert(
            keys::EXPIRES_AT.to_owned(),
            n(timestamp::epoch_seconds_ceil(
                change.at + PENDING_STATUS_RETENTION,
            )),
        );
        self.put("keep_pending_status", item).await
    }

    async fn delete_pending_status(
        &self,
        tenant: &TenantId,
        wamid: &Wamid,
        status: MessageStatus,
    ) -> Result<(), StoreError> {
        self.delete_if(
            "delete_pending_status",
            keys::wamid_pk(tenant, wamid)?,
            &keys::pending_status_sk(status),
            None,
            &Placeholders::default(),
        )
        .await?;
        Ok(())
    }

    /// Applies the statuses that waited for this wamid, oldest rank first, and removes them.
    /// Expired ones (TTL is lazy; `now` decides) are removed without being applied.
    pub(crate) async fn apply_pending_statuses(
        &self,
        tenant: &TenantId,
        wamid: &Wamid,
        location: &MessageLocation,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut p = Placeholders::default();
        let condition = format!(
            "{} = {} AND begins_with({}, {})",
            p.name(keys::PK),
            p.value("pk", s(keys::wamid_pk(tenant, wamid)?)),
            p.name(keys::SK),
            p.value("prefix", s(keys::PENDING_STATUS_SK_PREFIX)),
        );
        // One item per status at most, so a single page holds them all.
        let out = self
            .client
            .query()
            .table_name(self.table.as_ref())
            .key_condition_expression(condition)
            .set_expression_attribute_names(p.names())
            .set_expression_attribute_values(p.values())
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| from_sdk("apply_pending_statuses", e))?;
        let mut pending = Vec::new();
        for item in out.items.unwrap_or_default() {
            let expired =
                number_attribute(&item, keys::EXPIRES_AT).is_some_and(|e| e < now.unix_timestamp());
            let status: PendingStatus = from_item(item)?;
            pending.push((status, expired));
        }
        pending.sort_by_key(|(status, _)| status.status.rank());
        for (status, expired) in pending {
            if !expired {
                let update = StatusUpdate {
                    status: status.status,
                    at: status.at,
                    error: status.error.as_ref(),
                    pricing_json: status.pricing_json.as_deref(),
                    decision: None,
                };
                self.apply_to_message(location, &update).await?;
            }
            self.delete_pending_status(tenant, wamid, status.status)
                .await?;
        }
        Ok(())
    }
}
