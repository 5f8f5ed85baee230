//! Webhook events for phone numbers no tenant has (yet). Global by necessity: without a route
//! there is no tenant to key them under. Kept, per phone number, so they can be replayed when
//! the number is onboarded, and dropped after [`UNROUTED_RETENTION`].

use crate::error::{StoreError, from_sdk};
use crate::expression::Placeholders;
use crate::item::{from_item, keyed, n, number_attribute, s};
use crate::keys;
use crate::page::clamp_limit;
use crate::store::Store;
use crate::timestamp;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// Long enough to finish onboarding a number whose webhooks started early; short enough not to
/// hoard messages meant for someone else's number.
pub const UNROUTED_RETENTION: Duration = Duration::days(30);

/// WABA-level events (templates, account updates) name no phone number: they are kept under
/// `waba:{waba_id}` instead, and replayed once the WABA is routed.
pub const WABA_ROUTE_KEY_PREFIX: &str = "waba:";

/// The key unrouted events of a WABA (not of one of its numbers) are kept under.
pub fn waba_route_key(waba_id: &str) -> String {
    format!("{WABA_ROUTE_KEY_PREFIX}{waba_id}")
}

/// Bounds the pages one listing reads past expired events still in the table.
const MAX_PAGES: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnroutedEvent {
    pub phone_number_id: String,
    /// The event's dedupe key (e.g. the wamid of the message it carries).
    pub event_key: String,
    pub event_json: String,
    #[serde(with = "crate::timestamp")]
    pub received_at: OffsetDateTime,
}

impl Store {
    /// Keeps the event once per `event_key`; a redelivery changes nothing.
    pub async fn keep_unrouted(
        &self,
        phone_number_id: &str,
        event_key: &str,
        event_json: &str,
        received_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let event = UnroutedEvent {
            phone_number_id: phone_number_id.to_owned(),
            event_key: event_key.to_owned(),
            event_json: event_json.to_owned(),
            received_at,
        };
        let pk = keys::unrouted_pk(phone_number_id)?;
        let mut item = keyed(
            &event,
            "unrouted_event",
            pk.as_str(),
            keys::event_sk(event_key)?,
        )?;
        item.insert(keys::GSI1PK.to_owned(), s(pk.as_str()));
        item.insert(
            keys::GSI1SK.to_owned(),
            s(format!("{}#{event_key}", timestamp::encode(received_at)?)),
        );
        item.insert(
            keys::EXPIRES_AT.to_owned(),
            n(timestamp::epoch_seconds_ceil(
                received_at + UNROUTED_RETENTION,
            )),
        );
        let mut p = Placeholders::default();
        let expires = p.name(keys::EXPIRES_AT);
        // An expired copy TTL has not removed yet counts as absent.
        let condition = format!(
            "attribute_not_exists({}) OR {expires} < {}",
            p.name(keys::PK),
            p.value("now", n(received_at.unix_timestamp()))
        );
        self.put_if("keep_unrouted", item, &condition, &p).await?;
        Ok(())
    }

    /// Up to `limit` unexpired events for the number, oldest first (replay order). `now`
    /// decides expiry: DynamoDB deletes expired items lazily (and the local emulator never).
    pub async fn list_unrouted(
        &self,
        phone_number_id: &str,
        limit: i32,
        now: OffsetDateTime,
    ) -> Result<Vec<UnroutedEvent>, StoreError> {
        let limit = clamp_limit(limit);
        let now_secs = now.unix_timestamp();
        let mut p = Placeholders::default();
        let key_condition = format!(
            "{} = {}",
            p.name(keys::GSI1PK),
            p.value("pk", s(keys::unrouted_pk(phone_number_id)?))
        );
        let filter = format!(
            "{} >= {}",
            p.name(keys::EXPIRES_AT),
            p.value("now", n(now_secs))
        );
        let mut events = Vec::new();
        let mut start = None;
        for _ in 0..MAX_PAGES {
            let out = self
                .client
                .query()
                .table_name(self.table.as_ref())
                .index_name(keys::GSI1)
                .key_condition_expression(key_condition.as_str())
                .filter_expression(filter.as_str())
                .set_expression_attribute_names(p.names())
                .set_expression_attribute_values(p.values())
                .scan_index_forward(true)
                .limit(limit)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| from_sdk("list_unrouted", e))?;
            for item in out.items.unwrap_or_default() {
                let live = number_attribute(&item, keys::EXPIRES_AT).is_some_and(|e| e >= now_secs);
                if live && events.len() < limit as usize {
                    events.push(from_item(item)?);
                }
            }
            start = out.last_evaluated_key.filter(|k| !k.is_empty());
            if start.is_none() || events.len() >= limit as usize {
                break;
            }
        }
        Ok(events)
    }

    /// Drops the event once it has been replayed.
    pub async fn delete_unrouted(
        &self,
        phone_number_id: &str,
        event_key: &str,
    ) -> Result<(), StoreError> {
        self.delete_if(
            "delete_unrouted",
            keys::unrouted_pk(phone_number_id)?,
            &keys::event_sk(event_key)?,
            None,
            &Placeholders::default(),
        )
        .await?;
        Ok(())
    }
}
