//! How many of a tenant's messages the policy refused for prohibited content (P20) in the last
//! 24 hours, shared by every concurrent outbound Lambda. Enough of them hold the tenant's
//! marketing for review ([`PROHIBITED_REFUSALS_BEFORE_SUSPENSION`]).
//!
//! One item per tenant and hour, `T#{tenant}#PROHIBITED` / `H#{yyyy-mm-ddThh}`, counted with an
//! atomic `ADD`; the count is the sum of the hour items of the last 24 (a rolling window at the
//! resolution of an hour). Each item expires two days after its hour began.

use crate::error::{StoreError, from_sdk};
use crate::expression::Placeholders;
use crate::item::{key, n, number_attribute, s};
use crate::keys;
use crate::store::Store;
use crate::tenant::MARKETING_SUSPENDED_PROHIBITED_CONTENT;
use switchboard_domain::TenantId;
use time::{Duration, OffsetDateTime, UtcOffset};

/// Refusals for prohibited content in [`PROHIBITED_REFUSALS_WINDOW`] that suspend the tenant's
/// marketing: a mistake or two is refused and told; a pattern is reviewed.
pub const PROHIBITED_REFUSALS_BEFORE_SUSPENSION: i64 = 5;
/// The window refusals are counted in.
pub const PROHIBITED_REFUSALS_WINDOW: Duration = Duration::hours(24);
/// How long an hour's counter is kept after its hour began: the window and a day's slack.
pub const PROHIBITED_REFUSALS_RETENTION: Duration = Duration::hours(48);

const COUNT: &str = "refusals";

/// The start of `at`'s hour, in UTC.
fn hour_of(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(UtcOffset::UTC);
    at.replace_time(time::Time::from_hms(at.hour(), 0, 0).unwrap_or(time::Time::MIDNIGHT))
}

fn hour_sk(hour: OffsetDateTime) -> String {
    format!(
        "H#{:04}-{:02}-{:02}T{:02}",
        hour.year(),
        u8::from(hour.month()),
        hour.day(),
        hour.hour()
    )
}

impl Store {
    /// Counts one refusal for prohibited content at `at`; returns the tenant's refusals in the
    /// 24 hours up to `at`, this one included. Atomic: concurrent refusals are all counted.
    pub async fn record_prohibited_refusal(
        &self,
        tenant: &TenantId,
        at: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        let pk = keys::prohibited_refusals_pk(tenant)?;
        let hour = hour_of(at);
        let ttl = crate::timestamp::epoch_seconds_ceil(hour + PROHIBITED_REFUSALS_RETENTION);
        let mut p = Placeholders::default();
        let update = format!(
            "ADD {} {} SET {} = {}, {} = {}",
            p.name(COUNT),
            p.value("one", n(1)),
            p.name(keys::EXPIRES_AT),
            p.value("ttl", n(ttl)),
            p.name(keys::ENTITY),
            p.value("entity", s("prohibited_refusals")),
        );
        self.client
            .update_item()
            .table_name(self.table.as_ref())
            .set_key(Some(key(pk.clone(), hour_sk(hour))))
            .update_expression(update)
            .set_expression_attribute_names(p.names())
            .set_expression_attribute_values(p.values())
            .send()
            .await
            .map_err(|e| from_sdk("record_prohibited_refusal", e))?;
        self.prohibited_refusals(tenant, at).await
    }

    /// Counts one refusal for prohibited content and, once the tenant has
    /// [`PROHIBITED_REFUSALS_BEFORE_SUSPENSION`] of them in 24 hours, suspends its marketing
    /// pending review (reason `prohibited_content`). True when this refusal suspended it.
    pub async fn count_prohibited_refusal(
        &self,
        tenant: &TenantId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let refusals = self.record_prohibited_refusal(tenant, at).await?;
        if refusals < PROHIBITED_REFUSALS_BEFORE_SUSPENSION {
            return Ok(false);
        }
        self.suspend_marketing(tenant, MARKETING_SUSPENDED_PROHIBITED_CONTENT, at)
            .await
    }

    /// The tenant's refusals for prohibited content in the 24 hours up to `now`.
    pub async fn prohibited_refusals(
        &self,
        tenant: &TenantId,
        now: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        let pk = keys::prohibited_refusals_pk(tenant)?;
        let last = hour_of(now);
        // The hour items overlapping the last 24 hours: this hour and the 23 before it.
        let first = last - PROHIBITED_REFUSALS_WINDOW + Duration::hours(1);
        let mut p = Placeholders::default();
        let condition = format!(
            "{} = {} AND {} BETWEEN {} AND {}",
            p.name(keys::PK),
            p.value("pk", s(pk)),
            p.name(keys::SK),
            p.value("first", s(hour_sk(first))),
            p.value("last", s(hour_sk(last))),
        );
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
            .map_err(|e| from_sdk("prohibited_refusals", e))?;
        Ok(out
            .items
            .unwrap_or_default()
            .iter()
            .filter_map(|item| number_attribute(item, COUNT))
            .sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn hours_sort_as_time_does() {
        let at = datetime!(2026-03-09 07:59:59.9 UTC);
        assert_eq!(hour_of(at), datetime!(2026-03-09 07:00 UTC));
        assert_eq!(hour_sk(hour_of(at)), "H#2026-03-09T07");
        assert_eq!(
            hour_sk(hour_of(datetime!(2026-03-09 07:30 +02:00))),
            "H#2026-03-09T05"
        );
        assert!(
            hour_sk(datetime!(2026-03-09 23:00 UTC)) < hour_sk(datetime!(2026-03-10 00:00 UTC))
        );
    }
}
