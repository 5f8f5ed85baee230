//! Failed sign-in counters, shared by every concurrent Lambda: one item per subject (an e-mail
//! digest or a source address digest), counting failures since the first of a window.

use crate::error::StoreError;
use crate::expression::Placeholders;
use crate::item::{from_item, key, n, s};
use crate::keys;
use crate::store::{Conditional, Store};
use aws_sdk_dynamodb::types::ReturnValue;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// What is counted against whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleKind {
    LoginEmail,
    LoginSource,
    /// Abuse reports sent from one source address.
    AbuseReportSource,
}

impl ThrottleKind {
    fn as_str(self) -> &'static str {
        match self {
            ThrottleKind::LoginEmail => "login-email",
            ThrottleKind::LoginSource => "login-ip",
            ThrottleKind::AbuseReportSource => "abuse-report-ip",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureCount {
    pub failures: i64,
    #[serde(with = "crate::timestamp")]
    pub window_start: OffsetDateTime,
    #[serde(with = "crate::timestamp")]
    pub last_failure_at: OffsetDateTime,
}

impl Store {
    /// The subject's failures in the window that contains `now`; `None` when none are counted.
    pub async fn failure_count(
        &self,
        kind: ThrottleKind,
        subject_digest: &str,
        window: Duration,
        now: OffsetDateTime,
    ) -> Result<Option<FailureCount>, StoreError> {
        let count: Option<FailureCount> = self
            .get(
                "failure_count",
                keys::throttle_pk(kind.as_str(), subject_digest)?,
                keys::THROTTLE_SK,
            )
            .await?
            .map(from_item)
            .transpose()?;
        Ok(count.filter(|c| now - c.window_start < window))
    }

    /// Counts one more failure, starting a new window when the last one has ended. Returns the
    /// count after this failure. Atomic: concurrent failures are all counted.
    pub async fn record_failure(
        &self,
        kind: ThrottleKind,
        subject_digest: &str,
        window: Duration,
        now: OffsetDateTime,
    ) -> Result<FailureCount, StoreError> {
        let pk = keys::throttle_pk(kind.as_str(), subject_digest)?;
        let now_s = crate::timestamp::encode(now)?;
        let window_open_since = crate::timestamp::encode(now - window)?;
        let ttl = n(crate::timestamp::epoch_seconds_ceil(now + window));
        // Within the window: add one. Otherwise (or first time): start over at one.
        for _ in 0..3 {
            let mut p = Placeholders::default();
            let update = format!(
                "ADD {failures} {one} SET {last} = {now}, {ttl} = {ttl_v}",
                failures = p.name("failures"),
                one = p.value("one", n(1)),
                last = p.name("last_failure_at"),
                now = p.value("now", s(now_s.as_str())),
                ttl = p.name(keys::EXPIRES_AT),
                ttl_v = p.value("ttl", ttl.clone()),
            );
            let condition = format!(
                "{start} > {since}",
                start = p.name("window_start"),
                since = p.value("since", s(window_open_since.as_str())),
            );
            let out = self
                .client
                .update_item()
                .table_name(self.table.as_ref())
                .set_key(Some(key(pk.clone(), keys::THROTTLE_SK)))
                .update_expression(update)
                .condition_expression(condition)
                .set_expression_attribute_names(p.names())
                .set_expression_attribute_values(p.values())
                .return_values(ReturnValue::AllNew)
                .send()
                .await;
            match out {
                Ok(out) => {
                    return from_item(out.attributes.unwrap_or_default());
                }
                Err(err) => match err.as_service_error() {
                    Some(e) if e.is_conditional_check_failed_exception() => {}
                    _ => return Err(crate::error::from_sdk("record_failure", err)),
                },
            }
            // No open window: open one, unless a concurrent failure just did.
            let fresh = FailureCount {
                failures: 1,
                window_start: now,
                last_failure_at: now,
            };
            let mut item = crate::item::keyed(&fresh, "throttle", pk.clone(), keys::THROTTLE_SK)?;
            item.insert(keys::EXPIRES_AT.to_owned(), ttl.clone());
            let mut p = Placeholders::default();
            let condition = format!(
                "attribute_not_exists({pk}) OR {start} <= {since}",
                pk = p.name(keys::PK),
                start = p.name("window_start"),
                since = p.value("since", s(window_open_since.as_str())),
            );
            if let Conditional::Written =
                self.put_if("record_failure", item, &condition, &p).await?
            {
                return Ok(fresh);
            }
        }
        Err(StoreError::Contended {
            operation: "record_failure",
        })
    }

    /// Forgets the subject's failures (a successful sign-in).
    pub async fn clear_failures(
        &self,
        kind: ThrottleKind,
        subject_digest: &str,
    ) -> Result<(), StoreError> {
        self.delete_if(
            "clear_failures",
            keys::throttle_pk(kind.as_str(), subject_digest)?,
            keys::THROTTLE_SK,
            None,
            &Placeholders::default(),
        )
        .await?;
        Ok(())
    }
}
