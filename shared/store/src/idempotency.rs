//! Idempotency records, after the AWS Lambda Powertools design: one conditional PutItem claims
//! the key (`INPROGRESS`), completion stores the response (`COMPLETED`) for a while, a failure
//! releases the key so a retry can start over. Expiry is decided by the `now` passed in, in the
//! condition expression and again in code: TTL deletion is lazy on AWS and absent in moto.

use crate::error::StoreError;
use crate::expression::{Placeholders, UpdateExpression};
use crate::item::{Item, key as item_key, n, number_attribute, s, string_attribute};
use crate::keys;
use crate::store::{Conditional, Store};
use crate::timestamp;
use aws_sdk_dynamodb::Client;
use switchboard_domain::TenantId;
use time::{Duration, OffsetDateTime};

const IN_PROGRESS: &str = "INPROGRESS";
const COMPLETED: &str = "COMPLETED";
const STATUS: &str = "status";
const IN_PROGRESS_UNTIL: &str = "in_progress_until";
const RESPONSE: &str = "response";
const PAYLOAD_HASH: &str = "payload_hash";

/// Between our failed put and our read, the record can be released or expire; a few attempts
/// settle it.
const BEGIN_ATTEMPTS: usize = 3;

/// What is being made idempotent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyKey {
    /// A webhook event, before its tenant is known. Global.
    WebhookEvent {
        phone_number_id_or_waba: String,
        event_key: String,
    },
    /// A tenant's request, e.g. an API call with an `Idempotency-Key` header, under a scope
    /// naming the operation.
    Tenant {
        tenant: TenantId,
        scope: String,
        key: String,
    },
}

impl IdempotencyKey {
    fn pk(&self) -> Result<String, StoreError> {
        match self {
            IdempotencyKey::WebhookEvent {
                phone_number_id_or_waba,
                event_key,
            } => keys::webhook_idempotency_pk(phone_number_id_or_waba, event_key),
            IdempotencyKey::Tenant { tenant, scope, key } => {
                keys::tenant_idempotency_pk(tenant, scope, key)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// The key is ours: do the work, then `complete` or `release`.
    Started,
    /// Done before; here is what it answered.
    Completed { response: Option<String> },
    /// Someone else is doing it right now.
    InProgress,
}

#[derive(Debug, Clone)]
pub struct IdempotencyStore {
    store: Store,
}

/// The stored record, read back for a decision.
struct Record {
    status: String,
    expires_at: i64,
    in_progress_until: Option<String>,
    response: Option<String>,
    payload_hash: Option<String>,
}

impl Record {
    fn from_item(item: &Item) -> Result<Self, StoreError> {
        Ok(Self {
            status: string_attribute(item, STATUS)
                .ok_or_else(|| StoreError::Decode("idempotency record without status".into()))?
                .to_owned(),
            expires_at: number_attribute(item, keys::EXPIRES_AT).ok_or_else(|| {
                StoreError::Decode("idempotency record without expires_at".into())
            })?,
            in_progress_until: string_attribute(item, IN_PROGRESS_UNTIL).map(str::to_owned),
            response: string_attribute(item, RESPONSE).map(str::to_owned),
            payload_hash: string_attribute(item, PAYLOAD_HASH).map(str::to_owned),
        })
    }

    /// The same test as the put's condition expression.
    fn is_expired(&self, now_secs: i64, now: &str) -> bool {
        self.expires_at < now_secs
            || (self.status == IN_PROGRESS
                && self
                    .in_progress_until
                    .as_deref()
                    .is_some_and(|until| until < now))
    }
}

impl IdempotencyStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            store: Store::new(client, table),
        }
    }

    /// Claims the key for `in_progress_for`, unless it is completed or claimed and not expired.
    pub async fn begin(
        &self,
        key: &IdempotencyKey,
        now: OffsetDateTime,
        in_progress_for: Duration,
    ) -> Result<Begin, StoreError> {
        self.claim(key, None, now, in_progress_for).await
    }

    /// [`begin`](Self::begin), remembering a hash of the request payload: the same key with a
    /// different payload is refused with [`StoreError::IdempotencyPayloadMismatch`] instead of
    /// being answered with another request's response.
    pub async fn begin_with_hash(
        &self,
        key: &IdempotencyKey,
        payload_hash: &str,
        now: OffsetDateTime,
        in_progress_for: Duration,
    ) -> Result<Begin, StoreError> {
        self.claim(key, Some(payload_hash), now, in_progress_for)
            .await
    }

    async fn claim(
        &self,
        key: &IdempotencyKey,
        payload_hash: Option<&str>,
        now: OffsetDateTime,
        in_progress_for: Duration,
    ) -> Result<Begin, StoreError> {
        let pk = key.pk()?;
        let now_text = timestamp::encode(now)?;
        let now_secs = now.unix_timestamp();
        let until = now + in_progress_for;

        let mut item = item_key(pk.as_str(), keys::IDEMPOTENCY_SK);
        item.extend([
            (keys::ENTITY.to_owned(), s("idempotency")),
            (STATUS.to_owned(), s(IN_PROGRESS)),
            (IN_PROGRESS_UNTIL.to_owned(), s(timestamp::encode(until)?)),
            (
                keys::EXPIRES_AT.to_owned(),
                n(timestamp::epoch_seconds_ceil(until)),
            ),
        ]);
        if let Some(hash) = payload_hash {
            item.insert(PAYLOAD_HASH.to_owned(), s(hash));
        }
        let mut p = Placeholders::default();
        let status = p.name(STATUS);
        let condition = format!(
            "attribute_not_exists({}) OR {} < {} OR ({status} = {} AND {} < {})",
            p.name(keys::PK),
            p.name(keys::EXPIRES_AT),
            p.value("now_secs", n(now_secs)),
            p.value("in_progress", s(IN_PROGRESS)),
            p.name(IN_PROGRESS_UNTIL),
            p.value("now", s(now_text.as_str())),
        );

        for _ in 0..BEGIN_ATTEMPTS {
            let old = match self
                .store
                .put_if("idempotency_begin", item.clone(), &condition, &p)
                .await?
            {
                Conditional::Written => return Ok(Begin::Started),
                Conditional::ConditionFailed(Some(old)) => Some(old),
                Conditional::ConditionFailed(None) => {
                    self.store
                        .get("idempotency_begin", pk.clone(), keys::IDEMPOTENCY_SK)
                        .await?
                }
            };
            // Gone (released) or expired since the put: claim again.
            let Some(old) = old else { continue };
            let record = Record::from_item(&old)?;
            if record.is_expired(now_secs, &now_text) {
                continue;
            }
            if let (Some(stored), Some(given)) = (record.payload_hash.as_deref(), payload_hash)
                && stored != given
            {
                return Err(StoreError::IdempotencyPayloadMismatch);
            }
            return match record.status.as_str() {
                COMPLETED => Ok(Begin::Completed {
                    response: record.response,
                }),
                IN_PROGRESS => Ok(Begin::InProgress),
                other => Err(StoreError::Decode(format!("idempotency status `{other}`"))),
            };
        }
        Err(StoreError::Contended {
            operation: "idempotency_begin",
        })
    }

    /// Marks the work done and keeps `response` for `keep_for`, answering repeats.
    pub async fn complete(
        &self,
        key: &IdempotencyKey,
        response: Option<&str>,
        now: OffsetDateTime,
        keep_for: Duration,
    ) -> Result<(), StoreError> {
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        u.set(format!(
            "{} = {}",
            p.name(STATUS),
            p.value("completed", s(COMPLETED))
        ));
        u.set(format!(
            "{} = {}",
            p.name(keys::EXPIRES_AT),
            p.value("expires", n(timestamp::epoch_seconds_ceil(now + keep_for)))
        ));
        u.set(format!(
            "{} = {}",
            p.name(keys::ENTITY),
            p.value("entity", s("idempotency"))
        ));
        let response_name = p.name(RESPONSE);
        match response {
            Some(r) => u.set(format!("{response_name} = {}", p.value("response", s(r)))),
            None => u.remove(response_name),
        };
        u.remove(p.name(IN_PROGRESS_UNTIL));
        self.store
            .update_if(
                "idempotency_complete",
                key.pk()?,
                keys::IDEMPOTENCY_SK,
                &u.build(),
                None,
                &p,
            )
            .await?;
        Ok(())
    }

    /// Gives the key up after a failure so a retry can start. A completed record stays.
    pub async fn release(&self, key: &IdempotencyKey) -> Result<(), StoreError> {
        let mut p = Placeholders::default();
        let condition = format!(
            "{} = {}",
            p.name(STATUS),
            p.value("in_progress", s(IN_PROGRESS))
        );
        self.store
            .delete_if(
                "idempotency_release",
                key.pk()?,
                keys::IDEMPOTENCY_SK,
                Some(&condition),
                &p,
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_in_code_matches_the_condition() {
        let record = |status: &str, expires_at, until: Option<&str>| Record {
            status: status.into(),
            expires_at,
            in_progress_until: until.map(Into::into),
            response: None,
            payload_hash: None,
        };
        let now = "2026-11-01T10:00:00.000000Z";
        assert!(!record(COMPLETED, 100, None).is_expired(100, now));
        assert!(record(COMPLETED, 99, None).is_expired(100, now));
        assert!(
            !record(IN_PROGRESS, 200, Some("2026-11-01T10:00:00.000001Z")).is_expired(100, now)
        );
        assert!(record(IN_PROGRESS, 200, Some("2026-11-01T09:59:59.999999Z")).is_expired(100, now));
    }
}
