//! The compliance policy's decision on an outbound message, stored on the message so the
//! business can see why it went, waits or never will.

use crate::error::StoreError;
use crate::expression::{Placeholders, UpdateExpression};
use crate::item::{n, s, to_value};
use crate::message::STATUS_RANK;
use crate::pointer::MessageAt;
use crate::store::{Conditional, Store};
use crate::timestamp;
use serde::{Deserialize, Serialize};
use switchboard_domain::{MessageId, MessageStatus, TenantId};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionOutcome {
    Allow,
    Deny,
    Defer,
}

/// `decision` on a message: `{outcome, reason, detail, at}`, plus `until` for a deferral.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyDecisionRecord {
    pub outcome: DecisionOutcome,
    /// A stable reason code (`window_closed`, `opted_out`, `quiet_hours`, …); none for allow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A sentence for the business; never the customer's number or the message text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::timestamp::option"
    )]
    pub until: Option<OffsetDateTime>,
    #[serde(with = "crate::timestamp")]
    pub at: OffsetDateTime,
}

impl Store {
    /// Stores the decision on a message still waiting to be sent (queued or deferred), and
    /// moves its status with it: deferred or denied; an allow leaves the status to the send.
    /// False when the message has moved on (sent, failed, denied) and nothing was written.
    pub async fn record_decision(
        &self,
        tenant: &TenantId,
        id: &MessageId,
        decision: &PolicyDecisionRecord,
    ) -> Result<bool, StoreError> {
        let pointer = self
            .message_pointer(tenant, id)
            .await?
            .ok_or(StoreError::NotFound { what: "message" })?;
        self.record_decision_at(tenant, &pointer.at(tenant)?, decision)
            .await
    }

    /// As [`Self::record_decision`], on the message where the caller read it.
    pub async fn record_decision_at(
        &self,
        tenant: &TenantId,
        message: &MessageAt,
        decision: &PolicyDecisionRecord,
    ) -> Result<bool, StoreError> {
        let location = message.location(tenant)?;
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        u.set(format!(
            "{} = {}",
            p.name("decision"),
            p.value("decision", to_value(decision)?)
        ));
        let status = p.name("status");
        match decision.outcome {
            DecisionOutcome::Allow => {}
            DecisionOutcome::Defer => {
                u.set(format!(
                    "{status} = {}",
                    p.value("next", s(MessageStatus::Deferred.as_str()))
                ));
            }
            DecisionOutcome::Deny => {
                u.set(format!(
                    "{status} = {}",
                    p.value("next", s(MessageStatus::Denied.as_str()))
                ));
                u.set(format!(
                    "{} = {}",
                    p.name(STATUS_RANK),
                    p.value("rank", n(i64::from(MessageStatus::Denied.rank())))
                ));
                u.set(format!(
                    "{} = {}",
                    p.name("denied_at"),
                    p.value("at", s(timestamp::encode(decision.at)?))
                ));
            }
        }
        let condition = format!(
            "{status} IN ({}, {})",
            p.value("queued", s(MessageStatus::Queued.as_str())),
            p.value("deferred", s(MessageStatus::Deferred.as_str()))
        );
        let written = self
            .update_if(
                "record_decision",
                location.pk.clone(),
                &location.sk,
                &u.build(),
                Some(&condition),
                &p,
            )
            .await?;
        Ok(matches!(written, Conditional::Written))
    }
}
