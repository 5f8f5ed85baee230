//! Messages the business sends: created queued by the API, marked sent (with Meta's wamid) or
//! failed by the outbound worker.

use crate::conversation::Activity;
use crate::error::StoreError;
use crate::expression::{Placeholders, UpdateExpression};
use crate::item::{s, string_attribute};
use crate::keys;
use crate::message::{MessageRecord, message_item};
use crate::pointer::MessagePointer;
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
        let items = vec![
            put_if_absent(table, pointer.by_message_id_item(tenant)?)?,
            put_if_absent(table, message)?,
            self.count_message_in_transaction(tenant, &activity)?,
        ];
        match self.transact("create_outbound_message", items).await? {
            Transacted::Committed => {}
            Transacted::ConditionFailed(_) => {
                let stored = self.message_pointer(tenant, &m.message_id).await?.ok_or(
                    StoreError::Contended {
                        operation: "create_outbound_message",
                    },
                )?;
                // Only finish our own conversation's update: a reused id naming another
                // conversation must not move that one.
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
        self.advance_conversation_activity(tenant, &activity)
            .await?;
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
        let Some(pointer) = self.message_pointer(tenant, id).await? else {
            return Ok(None);
        };
        let location = pointer.location(tenant)?;
        let Some(item) = self
            .get("get_outbound_message", location.pk, &location.sk)
            .await?
        else {
            return Ok(None);
        };
        let body_json = string_attribute(&item, BODY_JSON).map(str::to_owned);
        Ok(Some((crate::item::from_item(item)?, body_json)))
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
        let location = pointer.location(tenant)?;

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

        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        let wamid_name = p.name("wamid");
        let wamid_value = p.value("wamid", s(wamid.as_str()));
        u.set(format!("{wamid_name} = {wamid_value}"));
        let same_wamid =
            format!("(attribute_not_exists({wamid_name}) OR {wamid_name} = {wamid_value})");
        let exists = format!("attribute_exists({})", p.name(keys::PK));
        let recorded = self
            .update_if(
                "mark_sent",
                location.pk.clone(),
                &location.sk,
                &u.build(),
                Some(&format!("{exists} AND {same_wamid}")),
                &p,
            )
            .await?;
        if let Conditional::ConditionFailed(_) = recorded {
            // The pointer written above must not outlive the refusal, or this wamid's statuses
            // would land on a message that was sent under another one.
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
            let current = self
                .get("mark_sent", location.pk.clone(), &location.sk)
                .await?;
            return Err(match current {
                None => StoreError::NotFound { what: "message" },
                Some(item)
                    if string_attribute(&item, "wamid").is_some_and(|w| w != wamid.as_str()) =>
                {
                    StoreError::MessageAlreadySent {
                        message_id: id.clone(),
                    }
                }
                Some(_) => StoreError::Contended {
                    operation: "mark_sent",
                },
            });
        }

        let sent = StatusUpdate {
            status: MessageStatus::Sent,
            at,
            error: None,
            pricing_json: None,
        };
        self.apply_to_message(&location, &sent).await?;
        self.apply_pending_statuses(tenant, wamid, &location, at)
            .await
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
        let failed = StatusUpdate {
            status: MessageStatus::Failed,
            at,
            error: Some(error),
            pricing_json: None,
        };
        self.apply_to_message(&pointer.location(tenant)?, &failed)
            .await?;
        Ok(())
    }
}
