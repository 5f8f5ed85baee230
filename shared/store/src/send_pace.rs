//! The shared send pace of each business phone number: the slot reservations every outbound
//! Lambda makes before it calls Meta, so that together they never exceed the number's
//! throughput (`switchboard_domain::throughput` explains the algorithm).
//!
//! Each item holds `next_slot`, the earliest time (microseconds since the epoch) the next send
//! on it may go. Reserving is one conditional write when the number is idle (the slot is now)
//! and one or two when it is busy (an atomic `ADD` pushes `next_slot` on by one interval; the
//! slot is the value before it). `next_slot` only ever grows, which is what makes a condition
//! checked against the caller's `now` stay true between the two writes.

use crate::error::{StoreError, from_sdk};
use crate::expression::Placeholders;
use crate::item::{Item, key, n};
use crate::keys;
use crate::store::Store;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use switchboard_domain::throughput::SendPace;
use switchboard_domain::{PhoneNumberId, TenantId};
use time::{Duration, OffsetDateTime};

const NEXT_SLOT: &str = "next_slot";
/// A pace item is only needed while its number sends; it goes a day after the last reservation.
const PACE_KEPT_FOR: Duration = Duration::days(1);

/// The answer to a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendSlot {
    /// The send may go at `at` (now, or shortly after: the caller waits until then).
    Granted { at: OffsetDateTime },
    /// The number's slots are taken further ahead than the caller would wait: try again at
    /// `retry_at`. Nothing was reserved.
    Full { retry_at: OffsetDateTime },
}

fn micros(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

fn from_micros(us: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn next_slot_of(item: &Item) -> Option<i64> {
    match item.get(NEXT_SLOT) {
        Some(AttributeValue::N(v)) => v.parse().ok(),
        _ => None,
    }
}

enum Written {
    Yes(Item),
    /// The condition failed; the item as it was when DynamoDB returns it.
    No(Option<Item>),
}

impl Store {
    /// Reserves the next send slot of `phone_number_id` at `pace`, waiting at most `max_wait`
    /// for it. Which of the number's items is used is spread by `spread` (any number that
    /// differs between concurrent callers, e.g. from the message id).
    pub async fn reserve_send_slot(
        &self,
        tenant: &TenantId,
        phone_number_id: &PhoneNumberId,
        pace: SendPace,
        spread: u64,
        now: OffsetDateTime,
        max_wait: Duration,
    ) -> Result<SendSlot, StoreError> {
        let shard = u32::try_from(spread % u64::from(pace.shards())).unwrap_or(0);
        let pk = keys::send_pace_pk(tenant, phone_number_id.as_str(), shard)?;
        let interval = pace.interval_micros();
        let now_us = micros(now);
        let horizon =
            now_us.saturating_add(i64::try_from(max_wait.whole_microseconds()).unwrap_or(0));
        let ttl = n(crate::timestamp::epoch_seconds_ceil(now + PACE_KEPT_FOR));

        // Idle: nothing is reserved after now, so this send goes now.
        let mut p = Placeholders::default();
        let slot = p.name(NEXT_SLOT);
        let update = format!(
            "SET {slot} = {next}, {ttl_name} = {ttl_value}",
            next = p.value("next", n(now_us.saturating_add(interval))),
            ttl_name = p.name(keys::EXPIRES_AT),
            ttl_value = p.value("ttl", ttl.clone()),
        );
        let condition = format!(
            "attribute_not_exists({slot}) OR {slot} <= {now}",
            now = p.value("now", n(now_us)),
        );
        let seen = match self
            .update_returning("reserve_send_slot", &pk, &update, &condition, &p)
            .await?
        {
            Written::Yes(_) => return Ok(SendSlot::Granted { at: now }),
            Written::No(old) => old.as_ref().and_then(next_slot_of),
        };
        if let Some(next) = seen
            && next > horizon
        {
            return Ok(SendSlot::Full {
                retry_at: from_micros(next.saturating_sub(horizon - now_us)),
            });
        }

        // Busy: take the slot after the last one reserved, if it is near enough.
        let mut p = Placeholders::default();
        let slot = p.name(NEXT_SLOT);
        let update = format!(
            "SET {ttl_name} = {ttl_value} ADD {slot} {interval}",
            interval = p.value("interval", n(interval)),
            ttl_name = p.name(keys::EXPIRES_AT),
            ttl_value = p.value("ttl", ttl),
        );
        let condition = format!(
            "{slot} > {now} AND {slot} <= {horizon}",
            now = p.value("now", n(now_us)),
            horizon = p.value("horizon", n(horizon)),
        );
        match self
            .update_returning("reserve_send_slot", &pk, &update, &condition, &p)
            .await?
        {
            Written::Yes(new) => {
                let next = next_slot_of(&new).ok_or(StoreError::Contended {
                    operation: "reserve_send_slot",
                })?;
                Ok(SendSlot::Granted {
                    at: from_micros(next - interval).max(now),
                })
            }
            Written::No(old) => {
                let next = old
                    .as_ref()
                    .and_then(next_slot_of)
                    .unwrap_or(horizon.saturating_add(interval));
                Ok(SendSlot::Full {
                    retry_at: from_micros(next.saturating_sub(horizon - now_us)).max(now),
                })
            }
        }
    }

    /// Holds every send of the number until `until` (Meta answered 130429: it counts more
    /// than we paced, e.g. sends from another platform on the same number). Slots already
    /// reserved keep their time; later ones start after `until`.
    pub async fn hold_sends(
        &self,
        tenant: &TenantId,
        phone_number_id: &PhoneNumberId,
        pace: SendPace,
        until: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let until_us = micros(until);
        let ttl = n(crate::timestamp::epoch_seconds_ceil(until + PACE_KEPT_FOR));
        for shard in 0..pace.shards() {
            let pk = keys::send_pace_pk(tenant, phone_number_id.as_str(), shard)?;
            let mut p = Placeholders::default();
            let slot = p.name(NEXT_SLOT);
            let update = format!(
                "SET {slot} = {until}, {ttl_name} = {ttl_value}",
                until = p.value("until", n(until_us)),
                ttl_name = p.name(keys::EXPIRES_AT),
                ttl_value = p.value("ttl", ttl.clone()),
            );
            let condition = format!(
                "attribute_not_exists({slot}) OR {slot} < {until}",
                until = p.value("until", n(until_us)),
            );
            self.update_returning("hold_sends", &pk, &update, &condition, &p)
                .await?;
        }
        Ok(())
    }

    async fn update_returning(
        &self,
        operation: &'static str,
        pk: &str,
        update: &str,
        condition: &str,
        p: &Placeholders,
    ) -> Result<Written, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(self.table.as_ref())
            .set_key(Some(key(pk.to_owned(), keys::SEND_PACE_SK)))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(p.names())
            .set_expression_attribute_values(p.values())
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => Ok(Written::Yes(out.attributes.unwrap_or_default())),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(refused)) => {
                    Ok(Written::No(refused.item().cloned()))
                }
                _ => Err(from_sdk(operation, err)),
            },
        }
    }
}
