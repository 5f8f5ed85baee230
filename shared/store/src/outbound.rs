//! Messages the business sends: created queued by the API, marked sent (with Meta's wamid) or
//! failed by the outbound worker.

use crate::conversation::Activity;
use crate::decision::PolicyDecisionRecord;
use crate::error::StoreError;
use crate::expression::{Placeholders, UpdateExpression};
use crate::item::{n, s, string_attribute, to_value};
use crate::keys;
use crate::message::{MessageRecord, STATUS_RANK, message_item};
use crate::pointer::{MessageAt, MessageLocation, MessagePointer};
use crate::recorded::Recorded;
use crate::status::{DeliveryError, StatusUpdate};
use crate::store::{Conditional, Store};
use crate::timestamp;
use crate::transaction::{Transacted, put_if_absent};
use switchboard_domain::{
    ContactKey, ConversationId, Direction, MessageId, MessageStatus, PhoneNumberId, TenantId, Wamid,
};
use time::OffsetDateTime;

const BODY_JSON: &str = "body_json";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutboundMessage {
    pub message_id: MessageId,
    pub phone_number_id: PhoneNumberId,
    pub to: ContactKey,
    pub message_type: String,
    pub text: Option<String>,
    /// The [`OutboundPayload`](switchboard_domain::outbound::OutboundPayload), as JSON.
    pub body_json: String,
    pub created_at: OffsetDateTime,
}

impl Store {
    /// Records the message as queued in its conversation. The same `message_id` again returns
    /// [`Recorded::Duplicate`] and writes nothing new. Does not touch the customer-service
    /// window: only the customer's messages open it.
    pub async fn create_outbound_message(
        &self,
        tenant: &TenantId,
        m: &NewOutboundMessage,
    ) -> Result<Recorded, StoreError> {
        self.create_outbound_message_for(tenant, m, None).await
    }

    /// As [`Store::create_outbound_message`], for a message of a campaign: it is tagged with
    /// the campaign and indexed under it, where the campaign's counts are read.
    pub async fn create_outbound_message_for(
        &self,
        tenant: &TenantId,
        m: &NewOutboundMessage,
        campaign_id: Option<&str>,
    ) -> Result<Recorded, StoreError> {
        let conversation_id = ConversationId::derive(&m.phone_number_id, &m.to);
        let message_sk = keys::message_sk(&timestamp::encode(m.created_at)?, &m.message_id)?;
        let pointer = MessagePointer {
            conversation_id: conversation_id.clone(),
            message_id: m.message_id.clone(),
            message_sk: message_sk.clone(),
        };
        let record = MessageRecord {
            id: m.message_id.clone(),
            conversation_id: conversation_id.clone(),
            direction: Direction::Outbound,
            message_type: m.message_type.clone(),
            text: m.text.clone(),
            status: MessageStatus::Queued,
            wamid: None,
            created_at: m.created_at,
            sent_at: None,
            delivered_at: None,
            read_at: None,
            played_at: None,
            failed_at: None,
            denied_at: None,
            decision: None,
            error: None,
            phone_number_id: m.phone_number_id.clone(),
            contact: m.to.clone(),
            campaign_id: campaign_id.map(str::to_owned),
            media: None,
        };
        let mut extra = vec![(BODY_JSON, s(m.body_json.as_str()))];
        if let Some(campaign) = campaign_id {
            extra.push((
                keys::GSI1PK,
                s(keys::campaign_messages_gsi1pk(tenant, campaign)?),
            ));
            extra.push((keys::GSI1SK, s(m.message_id.as_str())));
        }
        let message = message_item(
            &record,
            pointer.location(tenant)?.pk,
            message_sk.clone(),
            extra,
        )?;
        let activity = Activity {
            conversation_id: &conversation_id,
            phone_number_id: &m.phone_number_id,
            contact: &m.to,
            at: m.created_at,
            message_sk: &message_sk,
            text: m.text.as_deref(),
            recorded_at: m.created_at,
        };
        let table = self.table.as_ref();
        let stored = [
            put_if_absent(table, pointer.by_message_id_item(tenant)?)?,
            put_if_absent(table, message)?,
        ];
        let mut items = stored.to_vec();
        items.push(self.record_latest_message_in_transaction(tenant, &activity)?);
        let mut committed = self.transact("create_outbound_message", items).await?;
        if let Transacted::ConditionFailed(failed) = &committed
            && *failed == [stored.len()]
        {
            // Only the conversation's condition failed: stored nowhere yet, and a later
            // message is already the conversation's latest, so it is only counted.
            let mut items = stored.to_vec();
            items.push(self.count_message_in_transaction(tenant, &activity)?);
            committed = self.transact("create_outbound_message", items).await?;
        }
        match committed {
            Transacted::Committed => {}
            Transacted::ConditionFailed(_) => {
                let stored = self.message_pointer(tenant, &m.message_id).await?.ok_or(
                    StoreError::Contended {
                        operation: "create_outbound_message",
                    },
                )?;
                // A message stored by an earlier version recorded its activity in a second
                // write, which a crash may have skipped: finish it (a no-op once applied).
                // Only our own conversation's: a reused id naming another conversation must
                // not move that one.
                if stored.conversation_id == conversation_id && stored.message_sk == message_sk {
                    self.advance_conversation_activity(tenant, &activity)
                        .await?;
                }
                return Ok(Recorded::Duplicate {
                    conversation_id: stored.conversation_id,
                    message_id: stored.message_id,
                });
            }
        }
        Ok(Recorded::New {
            conversation_id,
            message_id: m.message_id.clone(),
        })
    }

    /// The message with the payload the API stored for it (`None` for messages stored
    /// without one).
    pub async fn get_outbound_message(
        &self,
        tenant: &TenantId,
        id: &MessageId,
    ) -> Result<Option<(MessageRecord, Option<String>)>, StoreError> {
        Ok(self
            .load_outbound_message(tenant, id)
            .await?
            .map(|m| (m.record, m.payload)))
    }

    /// The message, its payload and where it is stored: the writes that follow in the same job
    /// ([`Self::mark_sent_at`], [`Self::mark_failed_at`], [`Self::record_decision_at`]) go
    /// straight to it.
    pub async fn load_outbound_message(
        &self,
        tenant: &TenantId,
        id: &MessageId,
    ) -> Result<Option<StoredOutbound>, StoreError> {
        let Some(pointer) = self.message_pointer(tenant, id).await? else {
            return Ok(None);
        };
        let at = pointer.at(tenant)?;
        let location = at.location(tenant)?;
        let Some(item) = self
            .get("get_outbound_message", location.pk.clone(), &location.sk)
            .await?
        else {
            return Ok(None);
        };
        let payload = string_attribute(&item, BODY_JSON).map(str::to_owned);
        Ok(Some(StoredOutbound {
            record: crate::item::from_item(item)?,
            payload,
            at,
        }))
    }

    /// Records Meta's wamid for the message and moves it to `sent` (unless a later status got
    /// there first), then applies any statuses that arrived for the wamid before this call.
    /// Safe to repeat with the same wamid.
    pub async fn mark_sent(
        &self,
        tenant: &TenantId,
        id: &MessageId,
        wamid: &Wamid,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let pointer = self
            .message_pointer(tenant, id)
            .await?
            .ok_or(StoreError::NotFound { what: "message" })?;
        self.mark_sent_at(tenant, &pointer.at(tenant)?, wamid, at, None)
            .await
    }

    /// As [`Self::mark_sent`], on the message where the caller read it, storing with it the
    /// policy's decision that let it go (`decision`), all in the message's one write.
    pub async fn mark_sent_at(
        &self,
        tenant: &TenantId,
        message: &MessageAt,
        wamid: &Wamid,
        at: OffsetDateTime,
        decision: Option<&PolicyDecisionRecord>,
    ) -> Result<(), StoreError> {
        let id = message.message_id();
        let location = message.location(tenant)?;
        let pointer = message.pointer(tenant)?;

        // The wamid pointer first, so statuses arriving from now on find the message.
        let mut p = Placeholders::default();
        let condition = format!(
            "attribute_not_exists({}) OR {} = {}",
            p.name(keys::PK),
            p.name("message_id"),
            p.value("id", s(id.as_str()))
        );
        let written = self
            .put_if(
                "mark_sent",
                pointer.by_wamid_item(tenant, wamid)?,
                &condition,
                &p,
            )
            .await?;
        if let Conditional::ConditionFailed(_) = written {
            return Err(StoreError::WamidConflict {
                wamid: wamid.clone(),
            });
        }

        // One write records the wamid and moves the message to `sent` (with its time and the
        // decision), when no other wamid is recorded and no later status got there first.
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        let wamid_name = p.name("wamid");
        let wamid_value = p.value("wamid", s(wamid.as_str()));
        u.set(format!("{wamid_name} = {wamid_value}"));
        u.set(format!(
            "{} = {}",
            p.name("status"),
            p.value("status", s(MessageStatus::Sent.as_str()))
        ));
        let rank_name = p.name(STATUS_RANK);
        let rank_value = p.value("rank", n(i64::from(MessageStatus::Sent.rank())));
        u.set(format!("{rank_name} = {rank_value}"));
        let sent_at = p.name("sent_at");
        u.set(format!(
            "{sent_at} = if_not_exists({sent_at}, {})",
            p.value("at", s(timestamp::encode(at)?))
        ));
        if let Some(decision) = decision {
            u.set(format!(
                "{} = {}",
                p.name("decision"),
                p.value("decision", to_value(decision)?)
            ));
        }
        let same_wamid =
            format!("(attribute_not_exists({wamid_name}) OR {wamid_name} = {wamid_value})");
        let condition = format!(
            "attribute_exists({}) AND {same_wamid} AND {rank_name} < {rank_value}",
            p.name(keys::PK)
        );
        let advanced = self
            .update_if_returning_old(
                "mark_sent",
                location.pk.clone(),
                &location.sk,
                &u.build(),
                &condition,
                &p,
            )
            .await?;
        if let Conditional::ConditionFailed(old) = advanced {
            let current = match old {
                Some(item) => Some(item),
                None => {
                    self.get("mark_sent", location.pk.clone(), &location.sk)
                        .await?
                }
            };
            let refused = match &current {
                None => Some(StoreError::NotFound { what: "message" }),
                Some(item)
                    if string_attribute(item, "wamid").is_some_and(|w| w != wamid.as_str()) =>
                {
                    Some(StoreError::MessageAlreadySent {
                        message_id: id.clone(),
                    })
                }
                // Already at or beyond `sent` (a redelivery, or a later status came first):
                // record the wamid and what this status tells without moving it back.
                Some(_) => self
                    .record_wamid_of_advanced(location, id, wamid, at, decision)
                    .await?
                    .err(),
            };
            if let Some(refused) = refused {
                // The pointer written above must not outlive the refusal, or this wamid's
                // statuses would land on a message that was sent under another one.
                let mut p = Placeholders::default();
                let ours = format!(
                    "{} = {}",
                    p.name("message_id"),
                    p.value("id", s(id.as_str()))
                );
                self.delete_if(
                    "mark_sent",
                    keys::wamid_pk(tenant, wamid)?,
                    keys::POINTER_SK,
                    Some(&ours),
                    &p,
                )
                .await?;
                return Err(refused);
            }
        }
        self.apply_pending_statuses(tenant, wamid, location, at)
            .await
    }

    /// The wamid and the `sent` time (first one wins) on a message whose status is already at
    /// or beyond `sent`. `Err` when the message is gone or another wamid got there meanwhile.
    async fn record_wamid_of_advanced(
        &self,
        location: &MessageLocation,
        id: &MessageId,
        wamid: &Wamid,
        at: OffsetDateTime,
        decision: Option<&PolicyDecisionRecord>,
    ) -> Result<Result<(), StoreError>, StoreError> {
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        let wamid_name = p.name("wamid");
        let wamid_value = p.value("wamid", s(wamid.as_str()));
        u.set(format!("{wamid_name} = {wamid_value}"));
        let sent_at = p.name("sent_at");
        u.set(format!(
            "{sent_at} = if_not_exists({sent_at}, {})",
            p.value("at", s(timestamp::encode(at)?))
        ));
        // The decision was taken while the message waited: it is its latest either way.
        if let Some(decision) = decision {
            u.set(format!(
                "{} = {}",
                p.name("decision"),
                p.value("decision", to_value(decision)?)
            ));
        }
        let condition = format!(
            "attribute_exists({}) AND (attribute_not_exists({wamid_name}) OR {wamid_name} = {wamid_value})",
            p.name(keys::PK)
        );
        let written = self
            .update_if(
                "mark_sent",
                location.pk.clone(),
                &location.sk,
                &u.build(),
                Some(&condition),
                &p,
            )
            .await?;
        if matches!(written, Conditional::Written) {
            return Ok(Ok(()));
        }
        let current = self
            .get("mark_sent", location.pk.clone(), &location.sk)
            .await?;
        Ok(Err(match current {
            None => StoreError::NotFound { what: "message" },
            Some(item) if string_attribute(&item, "wamid").is_some_and(|w| w != wamid.as_str()) => {
                StoreError::MessageAlreadySent {
                    message_id: id.clone(),
                }
            }
            Some(_) => StoreError::Contended {
                operation: "mark_sent",
            },
        }))
    }

    /// Records that the message could not be sent (policy, Graph API rejection, retries
    /// exhausted). A message already delivered stays delivered.
    pub async fn mark_failed(
        &self,
        tenant: &TenantId,
        id: &MessageId,
        error: &DeliveryError,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let pointer = self
            .message_pointer(tenant, id)
            .await?
            .ok_or(StoreError::NotFound { what: "message" })?;
        self.mark_failed_at(tenant, &pointer.at(tenant)?, error, at, None)
            .await
    }

    /// As [`Self::mark_failed`], on the message where the caller read it, storing with it the
    /// policy's decision when the message was allowed and then could not go.
    pub async fn mark_failed_at(
        &self,
        tenant: &TenantId,
        message: &MessageAt,
        error: &DeliveryError,
        at: OffsetDateTime,
        decision: Option<&PolicyDecisionRecord>,
    ) -> Result<(), StoreError> {
        let failed = StatusUpdate {
            status: MessageStatus::Failed,
            at,
            error: Some(error),
            pricing_json: None,
            decision,
        };
        self.apply_to_message(message.location(tenant)?, &failed)
            .await?;
        Ok(())
    }
}

/// An outbound message as the outbound function reads it for a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOutbound {
    pub record: MessageRecord,
    /// The payload the API stored (`None` for messages stored without one).
    pub payload: Option<String>,
    /// Where the message is, for the job's writes to it.
    pub at: MessageAt,
}

impl NewOutboundMessage {
    /// Where [`Store::create_outbound_message`] stores this message: for writes right after
    /// it created the message (a new one, not a duplicate, whose pointer may say otherwise).
    pub fn stored_at(&self, tenant: &TenantId) -> Result<MessageAt, StoreError> {
        let pointer = MessagePointer {
            conversation_id: ConversationId::derive(&self.phone_number_id, &self.to),
            message_id: self.message_id.clone(),
            message_sk: keys::message_sk(&timestamp::encode(self.created_at)?, &self.message_id)?,
        };
        pointer.at(tenant)
    }
}
