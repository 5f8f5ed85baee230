//! Conversations: one per business phone number and customer, holding its messages in the same
//! partition. Activity fields only move forward, so messages recorded out of order never make a
//! conversation look older or its customer-service window shorter.

use crate::cursor::Cursors;
use crate::error::{StoreError, from_sdk};
use crate::expression::{Placeholders, UpdateExpression};
use crate::item::{from_item, key, n, s, to_value};
use crate::keys;
use crate::page::{Page, clamp_limit};
use crate::store::Store;
use crate::timestamp;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};
use switchboard_domain::conversation::window_closes_at;
use switchboard_domain::{ContactKey, ConversationId, PhoneNumberId, TenantId};
use time::OffsetDateTime;

/// A conversation as the API shows it. Times serialize as RFC 3339 (UTC, microseconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationRecord {
    pub id: ConversationId,
    pub phone_number_id: PhoneNumberId,
    pub contact: ContactKey,
    pub profile_name: Option<String>,
    #[serde(with = "crate::timestamp")]
    pub created_at: OffsetDateTime,
    #[serde(with = "crate::timestamp")]
    pub last_message_at: OffsetDateTime,
    pub last_message_preview: Option<String>,
    #[serde(default, with = "crate::timestamp::option")]
    pub last_customer_message_at: Option<OffsetDateTime>,
    /// When free-form replies stop being allowed: 24 hours after the customer's latest message.
    #[serde(default, with = "crate::timestamp::option")]
    pub window_expires_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub message_count: i64,
    /// When Meta refused a free-form message because the window had closed (131047): the
    /// window stays closed from then until the customer writes again.
    #[serde(default, with = "crate::timestamp::option")]
    pub window_closed_by_error_at: Option<OffsetDateTime>,
}

/// Enough of a preview for a conversation list; the message keeps its full text.
const PREVIEW_CHARS: usize = 160;

/// The message a conversation update is about.
pub(crate) struct Activity<'a> {
    pub(crate) conversation_id: &'a ConversationId,
    pub(crate) phone_number_id: &'a PhoneNumberId,
    pub(crate) contact: &'a ContactKey,
    /// The message's place in time, as stored.
    pub(crate) at: OffsetDateTime,
    /// The message's sort key: a total order, so two messages in the same second still compare.
    pub(crate) message_sk: &'a str,
    pub(crate) text: Option<&'a str>,
    /// When the conversation counts as created if this message creates it.
    pub(crate) recorded_at: OffsetDateTime,
}

fn set_if_absent(
    p: &mut Placeholders,
    u: &mut UpdateExpression,
    name: &str,
    label: &str,
    value: AttributeValue,
) {
    let name = p.name(name);
    let value = p.value(label, value);
    u.set(format!("{name} = if_not_exists({name}, {value})"));
}

fn preview(text: Option<&str>) -> Option<String> {
    text.map(|t| t.chars().take(PREVIEW_CHARS).collect())
}

/// What every recording of a message sets on its conversation: the conversation's identity
/// if it is new, its kind and index partition, and the message counted.
fn count_in_conversation(
    p: &mut Placeholders,
    u: &mut UpdateExpression,
    tenant: &TenantId,
    a: &Activity<'_>,
) -> Result<(), StoreError> {
    set_if_absent(p, u, "id", "id", s(a.conversation_id.as_str()));
    set_if_absent(
        p,
        u,
        "phone_number_id",
        "pnid",
        s(a.phone_number_id.as_str()),
    );
    set_if_absent(p, u, "contact", "contact", to_value(a.contact)?);
    set_if_absent(
        p,
        u,
        "created_at",
        "created",
        s(timestamp::encode(a.recorded_at)?),
    );
    u.set(format!(
        "{} = {}",
        p.name(keys::ENTITY),
        p.value("entity", s("conversation"))
    ));
    u.set(format!(
        "{} = {}",
        p.name(keys::GSI1PK),
        p.value("gsi1pk", s(keys::conversations_gsi1pk(tenant)?))
    ));
    u.add(format!(
        "{} {}",
        p.name("message_count"),
        p.value("one", n(1))
    ));
    Ok(())
}

/// The placeholders of a message's position that a condition on "is this the latest" compares.
struct LatestMessage {
    at_value: String,
    last_key: String,
    message_key: String,
}

/// Moves the last-message fields and the recency index to this message, as
/// `advance_conversation_activity` does; the caller's condition decides whether it is the latest.
fn move_to_latest_message(
    p: &mut Placeholders,
    u: &mut UpdateExpression,
    a: &Activity<'_>,
) -> Result<LatestMessage, StoreError> {
    let at_value = p.value("at", s(timestamp::encode(a.at)?));
    u.set(format!("{} = {at_value}", p.name("last_message_at")));
    u.set(format!("{} = {at_value}", p.name(keys::GSI1SK)));
    let last_key = p.name("last_message_key");
    let message_key = p.value("key", s(a.message_sk));
    u.set(format!("{last_key} = {message_key}"));
    let preview_name = p.name("last_message_preview");
    match preview(a.text) {
        Some(text) => u.set(format!("{preview_name} = {}", p.value("preview", s(text)))),
        None => u.remove(preview_name),
    };
    Ok(LatestMessage {
        at_value,
        last_key,
        message_key,
    })
}

/// Counts the message in its conversation and gives a new conversation its last-message
/// fields, leaving an existing conversation's alone (they belong to a later message).
fn count_without_moving(
    p: &mut Placeholders,
    u: &mut UpdateExpression,
    tenant: &TenantId,
    a: &Activity<'_>,
) -> Result<(), StoreError> {
    let at = timestamp::encode(a.at)?;
    count_in_conversation(p, u, tenant, a)?;
    set_if_absent(p, u, "last_message_at", "at", s(at.as_str()));
    set_if_absent(p, u, "last_message_key", "key", s(a.message_sk));
    set_if_absent(p, u, keys::GSI1SK, "gsi1sk", s(at.as_str()));
    if let Some(text) = preview(a.text) {
        set_if_absent(p, u, "last_message_preview", "preview", s(text));
    }
    Ok(())
}

/// Opens or extends the customer-service window to this customer message (`at_value`, its
/// time's placeholder), as `advance_customer_window` does; the caller's condition decides
/// whether it is the customer's latest. Returns the placeholder of the customer's last time.
fn extend_customer_window(
    p: &mut Placeholders,
    u: &mut UpdateExpression,
    a: &Activity<'_>,
    at_value: &str,
    profile_name: Option<&str>,
) -> Result<String, StoreError> {
    let last_customer = p.name("last_customer_message_at");
    u.set(format!("{last_customer} = {at_value}"));
    u.set(format!(
        "{} = {}",
        p.name("window_expires_at"),
        p.value("closes", s(timestamp::encode(window_closes_at(a.at))?))
    ));
    if let Some(name) = profile_name {
        u.set(format!(
            "{} = {}",
            p.name("profile_name"),
            p.value("profile", s(name))
        ));
    }
    Ok(last_customer)
}

impl Store {
    /// The conversation update that goes into the same transaction as the message put: creates
    /// the conversation if needed and counts the message, exactly once with it.
    pub(crate) fn count_message_in_transaction(
        &self,
        tenant: &TenantId,
        a: &Activity<'_>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        count_without_moving(&mut p, &mut u, tenant, a)?;
        self.conversation_update(tenant, a, &u, &p, None)
    }

    /// The conversation update of a customer's message that is not the conversation's latest
    /// (the business answered within the same second: Meta's timestamps are whole seconds) but
    /// is the customer's latest, which is what such a message almost always is: counts it and
    /// opens or extends the customer-service window, in one write. Its condition fails when
    /// the customer has a later message; the caller then only counts it.
    pub(crate) fn record_latest_customer_window_in_transaction(
        &self,
        tenant: &TenantId,
        a: &Activity<'_>,
        profile_name: Option<&str>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        count_without_moving(&mut p, &mut u, tenant, a)?;
        let at_value = p.value("sent", s(timestamp::encode(a.at)?));
        let last_customer = extend_customer_window(&mut p, &mut u, a, &at_value, profile_name)?;
        let condition = format!(
            "attribute_not_exists({pk}) OR attribute_not_exists({last_customer}) OR {last_customer} <= {at_value}",
            pk = p.name(keys::PK)
        );
        self.conversation_update(tenant, a, &u, &p, Some(condition))
    }

    /// The conversation's update in a recording transaction, with its condition if any.
    fn conversation_update(
        &self,
        tenant: &TenantId,
        a: &Activity<'_>,
        u: &UpdateExpression,
        p: &Placeholders,
        condition: Option<String>,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(self.table.as_ref())
            .set_key(Some(key(
                keys::conversation_pk(tenant, a.conversation_id)?,
                keys::CONVERSATION_SK,
            )))
            .update_expression(u.build())
            .set_condition_expression(condition)
            .set_expression_attribute_names(p.names())
            .set_expression_attribute_values(p.values())
            .build()
            .map_err(|e| StoreError::Encode(e.to_string()))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The conversation update of a business's message in its recording transaction when the
    /// message is the conversation's latest, which it almost always is (it is stamped with the
    /// time it is accepted): creates the conversation if needed, counts the message and moves
    /// the last-message fields and the recency index to it, in one write instead of the count
    /// and a separate [`Self::advance_conversation_activity`]. Its condition fails when the
    /// conversation already has a later message; the caller then records the message with
    /// [`Self::count_message_in_transaction`], which leaves the later message's fields alone.
    pub(crate) fn record_latest_message_in_transaction(
        &self,
        tenant: &TenantId,
        a: &Activity<'_>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        count_in_conversation(&mut p, &mut u, tenant, a)?;
        let latest = move_to_latest_message(&mut p, &mut u, a)?;
        let condition = format!(
            "attribute_not_exists({pk}) OR attribute_not_exists({last_key}) OR {last_key} < {message_key}",
            pk = p.name(keys::PK),
            last_key = latest.last_key,
            message_key = latest.message_key,
        );
        self.conversation_update(tenant, a, &u, &p, Some(condition))
    }

    /// The conversation update of a customer's message in its recording transaction when the
    /// message is the conversation's latest, which is the common case: creates the conversation
    /// if needed, counts the message, moves the last-message fields and the recency index to
    /// it and opens or extends the customer-service window, all in one write. Its condition
    /// fails when the conversation already has a later message or a later customer message (one
    /// of the same second counts as no later: the window it gives is this one's); the caller
    /// then tries [`Self::record_latest_customer_window_in_transaction`], then
    /// [`Self::count_message_in_transaction`], which move only what this message is the latest
    /// of.
    pub(crate) fn record_latest_customer_message_in_transaction(
        &self,
        tenant: &TenantId,
        a: &Activity<'_>,
        profile_name: Option<&str>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        count_in_conversation(&mut p, &mut u, tenant, a)?;
        let LatestMessage {
            at_value,
            last_key,
            message_key,
        } = move_to_latest_message(&mut p, &mut u, a)?;
        let last_customer = extend_customer_window(&mut p, &mut u, a, &at_value, profile_name)?;
        let condition = format!(
            "attribute_not_exists({pk}) OR ((attribute_not_exists({last_key}) OR {last_key} < {message_key}) \
             AND (attribute_not_exists({last_customer}) OR {last_customer} <= {at_value}))",
            pk = p.name(keys::PK)
        );
        self.conversation_update(tenant, a, &u, &p, Some(condition))
    }

    /// Moves last-message fields (and the recency index) to this message if it is the latest.
    /// A no-op when a later message is already there, so repeating it changes nothing.
    pub(crate) async fn advance_conversation_activity(
        &self,
        tenant: &TenantId,
        a: &Activity<'_>,
    ) -> Result<(), StoreError> {
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        let latest = move_to_latest_message(&mut p, &mut u, a)?;
        let condition = format!(
            "attribute_exists({}) AND {} < {}",
            p.name(keys::PK),
            latest.last_key,
            latest.message_key
        );
        self.update_if(
            "advance_conversation_activity",
            keys::conversation_pk(tenant, a.conversation_id)?,
            keys::CONVERSATION_SK,
            &u.build(),
            Some(&condition),
            &p,
        )
        .await?;
        Ok(())
    }

    /// Opens or extends the customer-service window for a customer message sent at `sent_at`,
    /// only ever to a later close: an older message arriving late never shrinks it.
    pub(crate) async fn advance_customer_window(
        &self,
        tenant: &TenantId,
        conversation_id: &ConversationId,
        sent_at: OffsetDateTime,
        profile_name: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        let last = p.name("last_customer_message_at");
        let t = p.value("t", s(timestamp::encode(sent_at)?));
        u.set(format!("{last} = {t}"));
        u.set(format!(
            "{} = {}",
            p.name("window_expires_at"),
            p.value("closes", s(timestamp::encode(window_closes_at(sent_at))?))
        ));
        if let Some(name) = profile_name {
            u.set(format!(
                "{} = {}",
                p.name("profile_name"),
                p.value("profile", s(name))
            ));
        }
        let condition = format!(
            "attribute_exists({}) AND (attribute_not_exists({last}) OR {last} < {t})",
            p.name(keys::PK)
        );
        self.update_if(
            "advance_customer_window",
            keys::conversation_pk(tenant, conversation_id)?,
            keys::CONVERSATION_SK,
            &u.build(),
            Some(&condition),
            &p,
        )
        .await?;
        Ok(())
    }

    /// Records that Meta closed the customer-service window at `at` (error 131047). Only moves
    /// forward; a conversation that does not exist is left alone.
    pub async fn close_window(
        &self,
        tenant: &TenantId,
        id: &ConversationId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        let closed = p.name("window_closed_by_error_at");
        let t = p.value("at", s(timestamp::encode(at)?));
        u.set(format!("{closed} = {t}"));
        let condition = format!(
            "attribute_exists({}) AND (attribute_not_exists({closed}) OR {closed} < {t})",
            p.name(keys::PK)
        );
        self.update_if(
            "close_window",
            keys::conversation_pk(tenant, id)?,
            keys::CONVERSATION_SK,
            &u.build(),
            Some(&condition),
            &p,
        )
        .await?;
        Ok(())
    }

    pub async fn get_conversation(
        &self,
        tenant: &TenantId,
        id: &ConversationId,
    ) -> Result<Option<ConversationRecord>, StoreError> {
        self.get(
            "get_conversation",
            keys::conversation_pk(tenant, id)?,
            keys::CONVERSATION_SK,
        )
        .await?
        .map(from_item)
        .transpose()
    }

    /// Newest activity first, from the recency index (gsi1): eventually consistent, so a
    /// conversation updated a moment ago may still show its previous position. `cursor` must
    /// be one `cursors` issued for this tenant's conversation list.
    pub async fn list_conversations(
        &self,
        tenant: &TenantId,
        limit: i32,
        cursor: Option<&str>,
        cursors: Cursors<'_>,
    ) -> Result<Page<ConversationRecord>, StoreError> {
        let gsi1pk = keys::conversations_gsi1pk(tenant)?;
        let prefix = keys::tenant_prefix(tenant)?;
        let scope = format!("conversations:{gsi1pk}");
        let start = cursor
            .map(|c| {
                cursors.decode(&scope, c, |key| {
                    key.len() == 4
                        && key.get(keys::GSI1PK) == Some(&gsi1pk)
                        && key.get(keys::PK).is_some_and(|pk| pk.starts_with(&prefix))
                        && key.get(keys::SK).map(String::as_str) == Some(keys::CONVERSATION_SK)
                        && key.contains_key(keys::GSI1SK)
                })
            })
            .transpose()?;
        let mut p = Placeholders::default();
        let condition = format!(
            "{} = {}",
            p.name(keys::GSI1PK),
            p.value("gsi1pk", s(gsi1pk.as_str()))
        );
        let out = self
            .client
            .query()
            .table_name(self.table.as_ref())
            .index_name(keys::GSI1)
            .key_condition_expression(condition)
            .set_expression_attribute_names(p.names())
            .set_expression_attribute_values(p.values())
            .scan_index_forward(false)
            .limit(clamp_limit(limit))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| from_sdk("list_conversations", e))?;
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item::<ConversationRecord>)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items,
            next_cursor: cursors.next(&scope, out.last_evaluated_key.as_ref())?,
        })
    }
}
