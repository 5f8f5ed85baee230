//! The one idempotency primitive, after the AWS Lambda Powertools design: one conditional
//! PutItem claims the key (`INPROGRESS`) for a lease and remembers a hash of the payload;
//! completion stores the response (`COMPLETED`) for a while; a failure releases the key so a
//! retry can start over. Every later step is owner-checked: only the caller holding the
//! claim's [`Lease`] can advance, complete or release it, so a caller whose lease expired and
//! was taken over cannot overwrite its successor's record. "In progress" is never success:
//! callers answer "retry later". Expiry is decided by the `now` passed in, in the condition
//! expression and again in code: TTL deletion is lazy on AWS and absent in moto.

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
const OWNER: &str = "owner";
const STAGE: &str = "stage";
const STAGE_AT: &str = "stage_at";

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

/// Proof of holding a claim: a random token stored with it. Steps taken with a lease that is
/// no longer the record's owner fail with [`StoreError::LeaseLost`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    token: String,
}

impl Lease {
    fn new() -> Self {
        Self {
            token: ulid::Ulid::new().to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// The key is ours: do the work, then `complete` or `release` with this lease.
    Started(Lease),
    /// Done before; here is what it answered.
    Completed { response: Option<String> },
    /// Someone holds the claim until `until`. `stage` is what its holder last said it was
    /// doing (see [`IdempotencyStore::advance`]), and since when.
    InProgress {
        until: OffsetDateTime,
        stage: Option<String>,
        stage_at: Option<OffsetDateTime>,
    },
}

impl Begin {
    pub fn is_started(&self) -> bool {
        matches!(self, Begin::Started(_))
    }
    pub fn is_in_progress(&self) -> bool {
        matches!(self, Begin::InProgress { .. })
    }
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
    stage: Option<String>,
    stage_at: Option<String>,
}

impl Record {
    fn from_item(item: &Item) -> Result<Self, StoreError> {
        let text = |name| string_attribute(item, name).map(str::to_owned);
        Ok(Self {
            status: text(STATUS)
                .ok_or_else(|| StoreError::Decode("idempotency record without status".into()))?,
            expires_at: number_attribute(item, keys::EXPIRES_AT).ok_or_else(|| {
                StoreError::Decode("idempotency record without expires_at".into())
            })?,
            in_progress_until: text(IN_PROGRESS_UNTIL),
            response: text(RESPONSE),
            payload_hash: text(PAYLOAD_HASH),
            stage: text(STAGE),
            stage_at: text(STAGE_AT),
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

    /// Claims the key for `lease_for`, unless it is completed or claimed and not expired.
    /// `payload_hash` binds the key to its request: the same key with another payload is
    /// refused with [`StoreError::IdempotencyPayloadMismatch`], also while the first is in
    /// progress, instead of being answered with another request's response.
    pub async fn begin(
        &self,
        key: &IdempotencyKey,
        payload_hash: &str,
        now: OffsetDateTime,
        lease_for: Duration,
    ) -> Result<Begin, StoreError> {
        let pk = key.pk()?;
        let now_text = timestamp::encode(now)?;
        let now_secs = now.unix_timestamp();
        let until = now + lease_for;
        let lease = Lease::new();

        let mut item = item_key(pk.as_str(), keys::IDEMPOTENCY_SK);
        item.extend([
            (keys::ENTITY.to_owned(), s("idempotency")),
            (STATUS.to_owned(), s(IN_PROGRESS)),
            (IN_PROGRESS_UNTIL.to_owned(), s(timestamp::encode(until)?)),
            (
                keys::EXPIRES_AT.to_owned(),
                n(timestamp::epoch_seconds_ceil(until)),
            ),
            (PAYLOAD_HASH.to_owned(), s(payload_hash)),
            (OWNER.to_owned(), s(lease.token.as_str())),
        ]);
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
                Conditional::Written => return Ok(Begin::Started(lease)),
                Conditional::ConditionFailed(Some(old)) => Some(old),
                Conditional::ConditionFailed(None) => {
                    self.store
                        .get("idempotency_begin", pk.clone(), keys::IDEMPOTENCY_SK)
                        .await?
                }
            };
            // Gone (released) or expired since the put: claim again.
            let Some(old) = old else { continue };
            if string_attribute(&old, OWNER) == Some(lease.token.as_str()) {
                // Our own put, applied though its answer was lost and the SDK retried it.
                return Ok(Begin::Started(lease));
            }
            let record = Record::from_item(&old)?;
            if record.is_expired(now_secs, &now_text) {
                continue;
            }
            if record
                .payload_hash
                .as_deref()
                .is_some_and(|stored| stored != payload_hash)
            {
                return Err(StoreError::IdempotencyPayloadMismatch);
            }
            return match record.status.as_str() {
                COMPLETED => Ok(Begin::Completed {
                    response: record.response,
                }),
                IN_PROGRESS => Ok(Begin::InProgress {
                    until: record
                        .in_progress_until
                        .as_deref()
                        .map(timestamp::decode)
                        .transpose()?
                        .unwrap_or(now),
                    stage: record.stage,
                    stage_at: record
                        .stage_at
                        .as_deref()
                        .map(timestamp::decode)
                        .transpose()?,
                }),
                other => Err(StoreError::Decode(format!("idempotency status `{other}`"))),
            };
        }
        Err(StoreError::Contended {
            operation: "idempotency_begin",
        })
    }

    /// Records what the holder is about to do and extends its lease to `lease_for` from `now`:
    /// e.g. before a call whose effect cannot be undone, a lease that outlives every redelivery.
    pub async fn advance(
        &self,
        key: &IdempotencyKey,
        lease: &Lease,
        stage: &str,
        now: OffsetDateTime,
        lease_for: Duration,
    ) -> Result<(), StoreError> {
        let until = now + lease_for;
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        u.set(format!(
            "{} = {}",
            p.name(STAGE),
            p.value("stage", s(stage))
        ));
        u.set(format!(
            "{} = {}",
            p.name(STAGE_AT),
            p.value("stage_at", s(timestamp::encode(now)?))
        ));
        u.set(format!(
            "{} = {}",
            p.name(IN_PROGRESS_UNTIL),
            p.value("until", s(timestamp::encode(until)?))
        ));
        u.set(format!(
            "{} = {}",
            p.name(keys::EXPIRES_AT),
            p.value("expires", n(timestamp::epoch_seconds_ceil(until)))
        ));
        let condition = format!(
            "{} = {} AND {} = {}",
            p.name(OWNER),
            p.value("owner", s(lease.token.as_str())),
            p.name(STATUS),
            p.value("in_progress", s(IN_PROGRESS))
        );
        self.owner_checked_update("idempotency_advance", key, &u.build(), &condition, &p)
            .await
    }

    /// Marks the work done and keeps `response` for `keep_for`, answering repeats. Repeating
    /// it with the same lease is harmless; with a lease that lost the claim it fails.
    pub async fn complete(
        &self,
        key: &IdempotencyKey,
        lease: &Lease,
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
        let response_name = p.name(RESPONSE);
        match response {
            Some(r) => u.set(format!("{response_name} = {}", p.value("response", s(r)))),
            None => u.remove(response_name),
        };
        u.remove(p.name(IN_PROGRESS_UNTIL));
        let condition = format!(
            "{} = {}",
            p.name(OWNER),
            p.value("owner", s(lease.token.as_str()))
        );
        self.owner_checked_update("idempotency_complete", key, &u.build(), &condition, &p)
            .await
    }

    /// Gives the key up after a failure so a retry can start. A completed record stays, and
    /// so does a claim that passed to someone else.
    pub async fn release(&self, key: &IdempotencyKey, lease: &Lease) -> Result<(), StoreError> {
        let mut p = Placeholders::default();
        let condition = format!(
            "{} = {} AND {} = {}",
            p.name(STATUS),
            p.value("in_progress", s(IN_PROGRESS)),
            p.name(OWNER),
            p.value("owner", s(lease.token.as_str()))
        );
        let pk = key.pk()?;
        match self
            .store
            .delete_if(
                "idempotency_release",
                pk.clone(),
                keys::IDEMPOTENCY_SK,
                Some(&condition),
                &p,
            )
            .await?
        {
            Conditional::Written => Ok(()),
            Conditional::ConditionFailed(_) => {
                // Already gone (our own delete, retried) is what we wanted.
                let current = self
                    .store
                    .get("idempotency_release", pk, keys::IDEMPOTENCY_SK)
                    .await?;
                match current {
                    None => Ok(()),
                    Some(_) => Err(StoreError::LeaseLost),
                }
            }
        }
    }

    async fn owner_checked_update(
        &self,
        operation: &'static str,
        key: &IdempotencyKey,
        update: &str,
        condition: &str,
        p: &Placeholders,
    ) -> Result<(), StoreError> {
        match self
            .store
            .update_if(
                operation,
                key.pk()?,
                keys::IDEMPOTENCY_SK,
                update,
                Some(condition),
                p,
            )
            .await?
        {
            Conditional::Written => Ok(()),
            Conditional::ConditionFailed(_) => Err(StoreError::LeaseLost),
        }
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
            stage: None,
            stage_at: None,
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
