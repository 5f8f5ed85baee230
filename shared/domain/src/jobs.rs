//! Messages between functions on queues. Small on purpose: the message itself is stored
//! first, the job only points at it, so a redelivered job always sees the latest state.

use crate::ids::{MessageId, TenantId};
use crate::media::MediaKind;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// SQS takes a `MessageGroupId` of at most 128 characters, each a letter, digit or ASCII
/// punctuation mark.
pub const MAX_GROUP_ID_LEN: usize = 128;

/// Hex SHA-256 plus its separator: what a hashed group id always ends with.
const HASHED_TAIL_LEN: usize = 1 + 64;

/// On the outbound FIFO queue: send this stored message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundJob {
    pub tenant_id: TenantId,
    pub message_id: MessageId,
}

impl OutboundJob {
    /// One FIFO group per tenant and recipient: a customer sees messages in order, and one
    /// slow recipient does not hold up the rest.
    ///
    /// `{tenant}:{recipient}` (e.g. `acme:wa:15551234567`) whenever SQS accepts it. Otherwise
    /// (too long, or a character SQS refuses) the tenant's accepted characters, as many as fit,
    /// then `#` and the hex SHA-256 of tenant and recipient: the same pair always maps to the
    /// same group, and different pairs to different groups.
    pub fn group_id(tenant: &TenantId, recipient: &str) -> String {
        let readable = format!("{tenant}:{recipient}");
        if readable.len() <= MAX_GROUP_ID_LEN && readable.chars().all(group_id_char) {
            return readable;
        }
        let mut hash = Sha256::new();
        // Length-prefixed, so no tenant and recipient pair reads as another.
        hash.update((tenant.as_str().len() as u64).to_be_bytes());
        hash.update(tenant.as_str().as_bytes());
        hash.update(recipient.as_bytes());
        let mut id: String = tenant
            .as_str()
            .chars()
            .filter(|c| group_id_char(*c))
            .take(MAX_GROUP_ID_LEN - HASHED_TAIL_LEN)
            .collect();
        id.push('#');
        id.push_str(&hex::encode(hash.finalize()));
        id
    }
}

/// On the inbound queue beside webhook events: work for the inbound function itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "snake_case")]
pub enum InboundJob {
    /// A number or WABA was just connected: apply the events kept for it while no tenant held
    /// it. `route_key` is a phone number id, or `waba:{waba_id}` for WABA-level events.
    ReplayUnrouted { route_key: String },
    /// Queue the messages of one chunk of a campaign's recipients, then schedule the next
    /// chunk at the number's pace.
    DispatchCampaign {
        tenant_id: TenantId,
        campaign_id: String,
        chunk: u32,
    },
}

impl InboundJob {
    /// What every serialized job starts with, and no webhook event does: jobs are told apart
    /// without parsing every event twice.
    pub const BODY_PREFIX: &'static str = "{\"job\":";

    pub fn to_body(&self) -> String {
        // A unit-free enum of strings always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The job a queue body carries; `None` for anything else (a webhook event).
    pub fn from_body(body: &str) -> Option<Result<Self, serde_json::Error>> {
        body.starts_with(Self::BODY_PREFIX)
            .then(|| serde_json::from_str(body))
    }
}

/// On the media queue: keep our own copy of an inbound message's media. Everything the fetch
/// needs is in the job (from the webhook), so the media function never reads the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaJob {
    pub tenant_id: TenantId,
    pub message_id: MessageId,
    /// The business number the customer wrote to: Meta's media belongs to it.
    pub phone_number_id: String,
    /// Meta's media id, from the webhook.
    pub media_id: String,
    pub kind: MediaKind,
    pub mime_type: String,
    /// What the webhook says the file's SHA-256 is (base64, as Meta sends it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    #[serde(default)]
    pub animated: bool,
}

/// What SQS accepts in a message group id: `[a-zA-Z0-9]` and ASCII punctuation.
fn group_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c.is_ascii_punctuation()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbound_jobs_are_told_apart_from_events_by_their_prefix() {
        let job = InboundJob::ReplayUnrouted {
            route_key: "waba:102".into(),
        };
        let body = job.to_body();
        assert!(body.starts_with(InboundJob::BODY_PREFIX), "{body}");
        assert_eq!(InboundJob::from_body(&body).and_then(Result::ok), Some(job));
        assert!(InboundJob::from_body(r#"{"key":"wamid.x","field":"messages"}"#).is_none());
        assert!(InboundJob::from_body(r#"{"job":"unknown"}"#).is_some_and(|r| r.is_err()));
    }

    fn valid(id: &str) -> bool {
        !id.is_empty() && id.len() <= MAX_GROUP_ID_LEN && id.chars().all(group_id_char)
    }

    #[test]
    fn short_ids_keep_the_readable_format() {
        let acme = TenantId::new("acme");
        assert_eq!(
            OutboundJob::group_id(&acme, "wa:15551234567"),
            "acme:wa:15551234567"
        );
        assert_eq!(
            OutboundJob::group_id(&acme, "u:US.13491208655302741918"),
            "acme:u:US.13491208655302741918"
        );
        // Exactly the limit is still readable.
        let recipient = format!("u:{}", "A".repeat(MAX_GROUP_ID_LEN - "acme:u:".len()));
        let id = OutboundJob::group_id(&acme, &recipient);
        assert_eq!(id, format!("acme:{recipient}"));
        assert_eq!(id.len(), MAX_GROUP_ID_LEN);
    }

    #[test]
    fn a_long_bsuid_gets_a_stable_hashed_id() {
        let acme = TenantId::new("acme");
        let long = format!("u:US.{}", "1".repeat(200));
        let id = OutboundJob::group_id(&acme, &long);
        assert!(valid(&id), "{id}");
        assert!(id.starts_with("acme#"), "the tenant stays readable: {id}");
        assert_eq!(id, OutboundJob::group_id(&acme, &long), "stable");
        let other = format!("u:US.{}2", "1".repeat(199));
        assert_ne!(id, OutboundJob::group_id(&acme, &other));
        assert_ne!(
            id,
            OutboundJob::group_id(&TenantId::new("globex"), &long),
            "tenants never share a group"
        );
    }

    #[test]
    fn a_long_tenant_id_is_cut_and_hashed() {
        let tenant = TenantId::new("t".repeat(300));
        let id = OutboundJob::group_id(&tenant, "wa:15551234567");
        assert!(valid(&id), "{id}");
        assert_eq!(id.len(), MAX_GROUP_ID_LEN);
        assert_eq!(id, OutboundJob::group_id(&tenant, "wa:15551234567"));
        assert_ne!(id, OutboundJob::group_id(&tenant, "wa:15551234568"));
        // Tenants sharing the kept prefix still get different groups.
        let longer = TenantId::new("t".repeat(301));
        assert_ne!(id, OutboundJob::group_id(&longer, "wa:15551234567"));
    }

    #[test]
    fn characters_sqs_refuses_are_hashed_away() {
        for (tenant, recipient) in [
            ("acme corp", "wa:15551234567"),
            ("acme", "u:ÜS.123"),
            ("acme", "u:US.1\n23"),
            ("acme", "u:US.1\u{0}23"),
            ("ácme", "wa:15551234567"),
        ] {
            let id = OutboundJob::group_id(&TenantId::new(tenant), recipient);
            assert!(valid(&id), "{tenant:?} {recipient:?} → {id}");
            assert!(id.contains('#'), "{id}");
        }
        // Only the refused characters are dropped from the readable part.
        assert!(
            OutboundJob::group_id(&TenantId::new("acme corp"), "wa:1").starts_with("acmecorp#")
        );
        // A tenant with nothing readable still gets a valid id.
        let id = OutboundJob::group_id(&TenantId::new("ü ü"), "wa:1");
        assert!(valid(&id) && id.starts_with('#'), "{id}");
    }

    #[test]
    fn the_tenant_and_recipient_boundary_is_part_of_the_hash() {
        // Same readable part, same concatenation: only the boundary tells them apart.
        let a = OutboundJob::group_id(&TenantId::new("a b "), "c");
        let b = OutboundJob::group_id(&TenantId::new("a b"), " c");
        assert!(a.starts_with("ab#") && b.starts_with("ab#"), "{a} {b}");
        assert_ne!(a, b);
    }
}
