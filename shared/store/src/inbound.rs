//! Recording a customer's message. Meta delivers webhooks at least once, concurrently and out of
//! order; the message pointer, whose id is derived from the wamid and which is written with
//! `attribute_not_exists` in the same transaction as the message and its count, makes every
//! delivery after the first change nothing.
//!
//! A customer's message needs no wamid pointer: that pointer is how a status finds its
//! message, and Meta sends statuses only for the business's own messages.

use crate::conversation::Activity;
use crate::error::StoreError;
use crate::item::s;
use crate::keys;
use crate::message::{MessageRecord, message_item};
use crate::pointer::MessagePointer;
use crate::recorded::Recorded;
use crate::store::Store;
use crate::timestamp;
use crate::transaction::{Transacted, put_if_absent};
use sha2::{Digest, Sha256};
use switchboard_domain::{
    ContactKey, ConversationId, Direction, MessageId, MessageStatus, PhoneNumberId, TenantId, Wamid,
};
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInboundMessage {
    pub phone_number_id: PhoneNumberId,
    pub contact: ContactKey,
    pub profile_name: Option<String>,
    pub wamid: Wamid,
    /// Meta's message timestamp: when the customer sent it.
    pub sent_at: OffsetDateTime,
    pub message_type: String,
    /// The text, or a caption, when the message has one.
    pub text: Option<String>,
    /// The message JSON exactly as Meta sent it.
    pub raw: String,
    pub received_at: OffsetDateTime,
}

/// Derived from the wamid, so every delivery of one message names the same item.
pub fn inbound_message_id(wamid: &Wamid) -> MessageId {
    let digest = Sha256::digest(wamid.as_str().as_bytes());
    // 32 hex digits: distinct in shape from generated ids (26-character ULIDs).
    MessageId::new(format!("msg_{}", hex::encode(&digest[..16])))
}

impl Store {
    /// Records the message, its conversation and contact. A second delivery of the same wamid
    /// returns [`Recorded::Duplicate`] and writes nothing new: one message item, counted once.
    ///
    /// When the message is the conversation's latest (the common case) one transaction stores
    /// it and moves the conversation to it: count, last message, recency and the customer's
    /// window. A message that is not stores it with a narrower conversation update, in one
    /// more transaction as a rule: counted, and moving only what it is the latest of (the
    /// customer's window when the business answered within the same second). The contact's
    /// forward-only update always follows: it is a no-op once applied.
    pub async fn record_inbound_message(
        &self,
        tenant: &TenantId,
        m: &NewInboundMessage,
    ) -> Result<Recorded, StoreError> {
        let conversation_id = ConversationId::derive(&m.phone_number_id, &m.contact);
        let message_id = inbound_message_id(&m.wamid);
        let message_sk = keys::message_sk(&timestamp::encode(m.sent_at)?, &message_id)?;
        let pointer = MessagePointer {
            conversation_id: conversation_id.clone(),
            message_id: message_id.clone(),
            message_sk: message_sk.clone(),
        };
        let record = MessageRecord {
            id: message_id.clone(),
            conversation_id: conversation_id.clone(),
            direction: Direction::Inbound,
            message_type: m.message_type.clone(),
            text: m.text.clone(),
            status: MessageStatus::Received,
            wamid: Some(m.wamid.clone()),
            created_at: m.sent_at,
            sent_at: Some(m.sent_at),
            delivered_at: None,
            read_at: None,
            played_at: None,
            failed_at: None,
            denied_at: None,
            decision: None,
            error: None,
            phone_number_id: m.phone_number_id.clone(),
            contact: m.contact.clone(),
            campaign_id: None,
            media: None,
        };
        let message = message_item(
            &record,
            pointer.location(tenant)?.pk,
            message_sk.clone(),
            [
                ("raw", s(m.raw.as_str())),
                ("received_at", s(timestamp::encode(m.received_at)?)),
            ],
        )?;
        let activity = Activity {
            conversation_id: &conversation_id,
            phone_number_id: &m.phone_number_id,
            contact: &m.contact,
            at: m.sent_at,
            message_sk: &message_sk,
            text: m.text.as_deref(),
            recorded_at: m.received_at,
        };
        let table = self.table.as_ref();
        let stored = [
            put_if_absent(table, pointer.by_message_id_item(tenant)?)?,
            put_if_absent(table, message)?,
        ];
        let profile_name = m.profile_name.as_deref();
        // From the widest conversation update to the narrowest; each is tried only when the
        // conversation's own condition alone failed, and "latest" once false stays false.
        let attempts = [
            (
                Outcome::NewLatest,
                self.record_latest_customer_message_in_transaction(
                    tenant,
                    &activity,
                    profile_name,
                )?,
            ),
            (
                Outcome::NewEarlier,
                self.record_latest_customer_window_in_transaction(tenant, &activity, profile_name)?,
            ),
            (
                Outcome::NewEarlier,
                self.count_message_in_transaction(tenant, &activity)?,
            ),
        ];
        let mut outcome = Outcome::Duplicate;
        for (committed_as, conversation) in attempts {
            let mut items = stored.to_vec();
            items.push(conversation);
            match self.transact("record_inbound_message", items).await? {
                Transacted::Committed => {
                    outcome = committed_as;
                    break;
                }
                Transacted::ConditionFailed(failed) if failed == [stored.len()] => continue,
                Transacted::ConditionFailed(_) => break,
            }
        }
        if outcome == Outcome::Duplicate {
            tracing::debug!(wamid = %m.wamid, "inbound message already recorded");
            // A message stored by an earlier version moved its window and activity in writes
            // after its transaction, which a crash may have skipped: finish them (no-ops once
            // applied).
            self.advance_customer_window(tenant, &conversation_id, m.sent_at, profile_name)
                .await?;
            self.advance_conversation_activity(tenant, &activity)
                .await?;
        }
        self.advance_contact(tenant, &m.contact, profile_name, m.sent_at, m.received_at)
            .await?;
        Ok(match outcome {
            Outcome::Duplicate => Recorded::Duplicate {
                conversation_id,
                message_id,
            },
            Outcome::NewLatest | Outcome::NewEarlier => Recorded::New {
                conversation_id,
                message_id,
            },
        })
    }
}

/// What recording one delivery of a customer's message came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Stored, and the conversation moved to it in the same transaction.
    NewLatest,
    /// Stored and counted; the conversation already had a later message, or the customer a
    /// later one.
    NewEarlier,
    Duplicate,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_id_is_stable_per_wamid_and_unlike_generated_ids() {
        let a = inbound_message_id(&Wamid::from("wamid.HBgLMTU1NTEyMzQ1NjcVAgASGBQzQTk"));
        assert_eq!(
            a,
            inbound_message_id(&Wamid::from("wamid.HBgLMTU1NTEyMzQ1NjcVAgASGBQzQTk"))
        );
        assert_ne!(a, inbound_message_id(&Wamid::from("wamid.other")));
        assert_eq!(a.as_str().len(), "msg_".len() + 32);
        assert_ne!(a.as_str().len(), MessageId::generate().as_str().len());
    }
}
