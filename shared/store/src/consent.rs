//! A contact's marketing consent and its history. The state lives on the contact item (one
//! per tenant and customer, so an opt-out through any of the tenant's numbers holds for all of
//! them); every change is also kept as its own item in the contact's partition, written in the
//! same transaction, so the history cannot miss a change.

use crate::contact::set_contact_identity;
use crate::error::{StoreError, from_sdk};
use crate::expression::{Placeholders, UpdateExpression};
use crate::item::{Item, from_item, key, keyed, s, to_value};
use crate::keys;
use crate::store::Store;
use crate::timestamp;
use crate::transaction::{Transacted, put_if_absent};
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use serde::{Deserialize, Serialize};
use switchboard_domain::consent::{
    ConsentProof, ConsentState, OptInOutcome, OptInSource, OptOutSource, opt_in_outcome,
};
use switchboard_domain::{ContactKey, MessageId, TenantId};
use time::OffsetDateTime;

/// `consent.marketing` as stored on the contact and shown by the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct MarketingConsent {
    #[serde(default)]
    pub state: ConsentState,
    /// The source of the change in force: an opt-in source while opted in, an opt-out source
    /// while opted out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The latest opt-in's proof; kept after an opt-out, as the record of what was agreed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<ConsentProof>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::timestamp::option"
    )]
    pub opted_in_at: Option<OffsetDateTime>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::timestamp::option"
    )]
    pub opted_out_at: Option<OffsetDateTime>,
    /// An opt-in was recorded at some point, even if later withdrawn.
    #[serde(default)]
    pub ever_opted_in: bool,
    /// The customer's own message whose keyword opted them out, while that opt-out is in
    /// force: a redelivery of that message knows the opt-out is its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opted_out_by: Option<MessageId>,
}

/// What a consent history entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentChangeKind {
    OptedIn,
    /// An opt-in for a customer already opted in: the new proof is kept here.
    OptInRenewed,
    /// An opt-in the business declared for a customer who had opted out.
    OptInRefused,
    OptedOut,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentChange {
    pub change: ConsentChangeKind,
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<ConsentProof>,
    /// `user:…`, `api_key:…`, `customer` or `meta`.
    pub recorded_by: String,
    #[serde(with = "crate::timestamp")]
    pub at: OffsetDateTime,
}

/// Optimistic writes lose only to a concurrent change of the same contact; a few rounds settle it.
const ATTEMPTS: usize = 4;
/// A contact's history is short (a few changes a year); one page shows all of it.
const HISTORY_LIMIT: i32 = 100;

impl Store {
    /// Records an opt-in, unless the customer opted out and `source` is not their own action:
    /// then it is refused (and the refusal kept in the history). Creates the contact if needed.
    pub async fn opt_in(
        &self,
        tenant: &TenantId,
        contact: &ContactKey,
        source: OptInSource,
        proof: &ConsentProof,
        at: OffsetDateTime,
    ) -> Result<OptInOutcome, StoreError> {
        for _ in 0..ATTEMPTS {
            let current = self
                .get_contact(tenant, contact)
                .await?
                .map(|c| c.consent)
                .unwrap_or_default();
            let outcome = opt_in_outcome(current.state, source);
            let change = ConsentChange {
                change: match outcome {
                    OptInOutcome::OptedIn => ConsentChangeKind::OptedIn,
                    OptInOutcome::AlreadyOptedIn => ConsentChangeKind::OptInRenewed,
                    OptInOutcome::RefusedOptedOut => ConsentChangeKind::OptInRefused,
                },
                source: source.as_str().to_owned(),
                proof: Some(proof.clone()),
                recorded_by: proof.recorded_by.clone(),
                at,
            };
            let next = match outcome {
                OptInOutcome::OptedIn => Some(MarketingConsent {
                    state: ConsentState::OptedIn,
                    source: Some(source.as_str().to_owned()),
                    proof: Some(proof.clone()),
                    opted_in_at: Some(at),
                    opted_out_at: current.opted_out_at,
                    ever_opted_in: true,
                    opted_out_by: None,
                }),
                OptInOutcome::AlreadyOptedIn | OptInOutcome::RefusedOptedOut => None,
            };
            if self
                .write_consent(tenant, contact, current.state, next.as_ref(), &change)
                .await?
            {
                return Ok(outcome);
            }
        }
        Err(StoreError::Contended {
            operation: "opt_in",
        })
    }

    /// Records an opt-out. True when it changed the state, false when the customer was
    /// opted out already, or opted back in by their own action after `at` (nothing is written
    /// then).
    pub async fn opt_out(
        &self,
        tenant: &TenantId,
        contact: &ContactKey,
        source: OptOutSource,
        recorded_by: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.record_opt_out(tenant, contact, source, recorded_by, at, None)
            .await
    }

    /// The customer's own message `message`, sent at `at`, asked to stop (a keyword). True
    /// when its opt-out is the one in force, whether it took effect now or on an earlier
    /// delivery of the same message: a redelivery after the opt-out was stored still
    /// completes what follows it (the confirmation), and a STOP delivered late never undoes a
    /// START the customer sent after it.
    pub async fn opt_out_by_message(
        &self,
        tenant: &TenantId,
        contact: &ContactKey,
        message: &MessageId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.record_opt_out(
            tenant,
            contact,
            OptOutSource::Keyword,
            "customer",
            at,
            Some(message),
        )
        .await
    }

    async fn record_opt_out(
        &self,
        tenant: &TenantId,
        contact: &ContactKey,
        source: OptOutSource,
        recorded_by: &str,
        at: OffsetDateTime,
        by: Option<&MessageId>,
    ) -> Result<bool, StoreError> {
        for _ in 0..ATTEMPTS {
            let current = self
                .get_contact(tenant, contact)
                .await?
                .map(|c| c.consent)
                .unwrap_or_default();
            if current.state == ConsentState::OptedOut {
                return Ok(by.is_some() && current.opted_out_by.as_ref() == by);
            }
            // The customer's own opt-in after this opt-out stands; a business's does not.
            let opted_back_in_after = current.state == ConsentState::OptedIn
                && current.opted_in_at.is_some_and(|t| t > at)
                && current
                    .source
                    .as_deref()
                    .and_then(|s| s.parse::<OptInSource>().ok())
                    .is_some_and(OptInSource::is_customer_action);
            if opted_back_in_after {
                return Ok(false);
            }
            let next = MarketingConsent {
                state: ConsentState::OptedOut,
                source: Some(source.as_str().to_owned()),
                opted_out_at: Some(at),
                opted_out_by: by.cloned(),
                ..current.clone()
            };
            let change = ConsentChange {
                change: ConsentChangeKind::OptedOut,
                source: source.as_str().to_owned(),
                proof: None,
                recorded_by: recorded_by.to_owned(),
                at,
            };
            if self
                .write_consent(tenant, contact, current.state, Some(&next), &change)
                .await?
            {
                return Ok(true);
            }
        }
        Err(StoreError::Contended {
            operation: "opt_out",
        })
    }

    /// The contact's consent changes, oldest first.
    pub async fn consent_history(
        &self,
        tenant: &TenantId,
        contact: &ContactKey,
    ) -> Result<Vec<ConsentChange>, StoreError> {
        let mut p = Placeholders::default();
        let condition = format!(
            "{} = {} AND begins_with({}, {})",
            p.name(keys::PK),
            p.value("pk", s(keys::contact_pk(tenant, contact)?)),
            p.name(keys::SK),
            p.value("prefix", s(keys::CONSENT_SK_PREFIX)),
        );
        let out = self
            .client
            .query()
            .table_name(self.table.as_ref())
            .key_condition_expression(condition)
            .set_expression_attribute_names(p.names())
            .set_expression_attribute_values(p.values())
            .consistent_read(true)
            .limit(HISTORY_LIMIT)
            .send()
            .await
            .map_err(|e| from_sdk("consent_history", e))?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect()
    }

    /// Writes the history entry, and the new state if there is one, where the state is still
    /// `read`. False when another change came first.
    async fn write_consent(
        &self,
        tenant: &TenantId,
        contact: &ContactKey,
        read: ConsentState,
        next: Option<&MarketingConsent>,
        change: &ConsentChange,
    ) -> Result<bool, StoreError> {
        let pk = keys::contact_pk(tenant, contact)?;
        let at = timestamp::encode(change.at)?;
        let entry_id = ulid::Ulid::new().to_string().to_lowercase();
        let entry: Item = keyed(
            change,
            "consent_change",
            pk.clone(),
            keys::consent_sk(&at, &entry_id)?,
        )?;
        let mut items = Vec::with_capacity(2);
        if let Some(next) = next {
            items.push(self.consent_update(tenant, contact, read, next, change.at)?);
        }
        items.push(put_if_absent(&self.table, entry)?);
        match self.transact("write_consent", items).await? {
            Transacted::Committed => Ok(true),
            Transacted::ConditionFailed(_) => Ok(false),
        }
    }

    fn consent_update(
        &self,
        tenant: &TenantId,
        contact: &ContactKey,
        read: ConsentState,
        next: &MarketingConsent,
        at: OffsetDateTime,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        set_contact_identity(&mut p, &mut u, tenant, contact, at)?;
        let consent = p.name("consent");
        u.set(format!("{consent} = {}", p.value("next", to_value(next)?)));
        let condition = if read == ConsentState::Unknown {
            // Unknown is also what a contact without the attribute reads as.
            format!(
                "attribute_not_exists({consent}) OR {consent}.{state} = {unknown}",
                state = p.name("state"),
                unknown = p.value("unknown", s(ConsentState::Unknown.as_str()))
            )
        } else {
            format!(
                "{consent}.{state} = {read}",
                state = p.name("state"),
                read = p.value("read", s(read.as_str()))
            )
        };
        let update = Update::builder()
            .table_name(self.table.as_ref())
            .set_key(Some(key(
                keys::contact_pk(tenant, contact)?,
                keys::CONTACT_SK,
            )))
            .update_expression(u.build())
            .condition_expression(condition)
            .set_expression_attribute_names(p.names())
            .set_expression_attribute_values(p.values())
            .build()
            .map_err(|e| StoreError::Encode(e.to_string()))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}
