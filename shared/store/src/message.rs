//! Message items and the reads the API makes of them.

use crate::cursor::Cursors;
use crate::decision::PolicyDecisionRecord;
use crate::error::{StoreError, from_sdk};
use crate::expression::Placeholders;
use crate::item::{Item, from_item, s};
use crate::keys;
use crate::page::{Page, clamp_limit};
use crate::status::DeliveryError;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use switchboard_domain::{
    ContactKey, ConversationId, Direction, MessageId, MessageStatus, PhoneNumberId, TenantId, Wamid,
};
use time::OffsetDateTime;

/// A message as the API shows it. Times serialize as RFC 3339 (UTC, microseconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub direction: Direction,
    pub message_type: String,
    pub text: Option<String>,
    pub status: MessageStatus,
    pub wamid: Option<Wamid>,
    /// When the message came to be: the customer's send time (Meta's timestamp) for inbound,
    /// acceptance by our API for outbound. Messages are listed in this order.
    #[serde(with = "crate::timestamp")]
    pub created_at: OffsetDateTime,
    #[serde(default, with = "crate::timestamp::option")]
    pub sent_at: Option<OffsetDateTime>,
    #[serde(default, with = "crate::timestamp::option")]
    pub delivered_at: Option<OffsetDateTime>,
    #[serde(default, with = "crate::timestamp::option")]
    pub read_at: Option<OffsetDateTime>,
    #[serde(default, with = "crate::timestamp::option")]
    pub played_at: Option<OffsetDateTime>,
    #[serde(default, with = "crate::timestamp::option")]
    pub failed_at: Option<OffsetDateTime>,
    #[serde(default, with = "crate::timestamp::option")]
    pub denied_at: Option<OffsetDateTime>,
    pub error: Option<DeliveryError>,
    /// The compliance policy's latest decision (outbound messages).
    #[serde(default)]
    pub decision: Option<PolicyDecisionRecord>,
    pub phone_number_id: PhoneNumberId,
    pub contact: ContactKey,
    /// The campaign this message was sent for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<String>,
    /// Our copy of the message's media, once the media function fetched it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<crate::MediaRecord>,
}

/// Attributes stored beside the record's own.
pub(crate) const STATUS_RANK: &str = "status_rank";

impl Store {
    pub async fn get_message(
        &self,
        tenant: &TenantId,
        id: &MessageId,
    ) -> Result<Option<MessageRecord>, StoreError> {
        let Some(pointer) = self.message_pointer(tenant, id).await? else {
            return Ok(None);
        };
        let location = pointer.location(tenant)?;
        self.get("get_message", location.pk, &location.sk)
            .await?
            .map(from_item)
            .transpose()
    }

    /// Oldest first (by [`MessageRecord::created_at`], then id), strongly consistent: a message
    /// just recorded is listed. `cursor` must be one `cursors` issued for this conversation's
    /// messages.
    pub async fn list_messages(
        &self,
        tenant: &TenantId,
        conversation: &ConversationId,
        limit: i32,
        cursor: Option<&str>,
        cursors: Cursors<'_>,
    ) -> Result<Page<MessageRecord>, StoreError> {
        let pk = keys::conversation_pk(tenant, conversation)?;
        let scope = format!("messages:{pk}");
        let start = cursor
            .map(|c| {
                cursors.decode(&scope, c, |key| {
                    key.len() == 2
                        && key.get(keys::PK) == Some(&pk)
                        && key
                            .get(keys::SK)
                            .is_some_and(|sk| sk.starts_with(keys::MESSAGE_SK_PREFIX))
                })
            })
            .transpose()?;
        let mut p = Placeholders::default();
        let condition = format!(
            "{} = {} AND begins_with({}, {})",
            p.name(keys::PK),
            p.value("pk", s(pk.as_str())),
            p.name(keys::SK),
            p.value("prefix", s(keys::MESSAGE_SK_PREFIX)),
        );
        let out = self
            .client
            .query()
            .table_name(self.table.as_ref())
            .key_condition_expression(condition)
            .set_expression_attribute_names(p.names())
            .set_expression_attribute_values(p.values())
            .scan_index_forward(true)
            .consistent_read(true)
            .limit(clamp_limit(limit))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| from_sdk("list_messages", e))?;
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item::<MessageRecord>)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items,
            next_cursor: cursors.next(&scope, out.last_evaluated_key.as_ref())?,
        })
    }
}

/// The message's attributes plus its key and bookkeeping.
pub(crate) fn message_item(
    record: &MessageRecord,
    pk: String,
    sk: String,
    extra: impl IntoIterator<Item = (&'static str, aws_sdk_dynamodb::types::AttributeValue)>,
) -> Result<Item, StoreError> {
    let mut item = crate::item::keyed(record, "message", pk, sk)?;
    item.insert(
        STATUS_RANK.to_owned(),
        crate::item::n(i64::from(record.status.rank())),
    );
    item.extend(extra.into_iter().map(|(k, v)| (k.to_owned(), v)));
    Ok(item)
}
