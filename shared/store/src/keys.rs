//! Every key the store writes, in one place. `docs/data-model.md` is the table of these.
//!
//! Tenant items start with `T#{tenant}`; a tenant id may not contain `#`, so the first `#`
//! after `T#` always ends the tenant segment and no tenant can name a key inside another.

use crate::error::StoreError;
use switchboard_domain::{
    ContactKey, ConversationId, MessageId, MessageStatus, TenantId, UserId, Wamid,
};

pub(crate) const PK: &str = "pk";
pub(crate) const SK: &str = "sk";
pub(crate) const GSI1: &str = "gsi1";
pub(crate) const GSI1PK: &str = "gsi1pk";
pub(crate) const GSI1SK: &str = "gsi1sk";
pub(crate) const EXPIRES_AT: &str = "expires_at";
/// What kind of item this is, for stream consumers and people reading the table.
pub(crate) const ENTITY: &str = "entity";

pub(crate) const TENANT_SK: &str = "TENANT";
pub(crate) const CONVERSATION_SK: &str = "CONV";
pub(crate) const MESSAGE_SK_PREFIX: &str = "MSG#";
pub(crate) const CONTACT_SK: &str = "CONTACT";
pub(crate) const POINTER_SK: &str = "PTR";
pub(crate) const PENDING_STATUS_SK_PREFIX: &str = "PENDING#";
pub(crate) const ROUTE_SK: &str = "ROUTE";
pub(crate) const API_KEY_SK: &str = "APIKEY";
pub(crate) const EVENT_SK_PREFIX: &str = "EVT#";
pub(crate) const IDEMPOTENCY_SK: &str = "IDEM";
pub(crate) const USER_SK: &str = "USER";
pub(crate) const EMAIL_SK: &str = "EMAIL";
pub(crate) const REFRESH_TOKEN_SK: &str = "RTOKEN";
pub(crate) const REFRESH_FAMILY_SK: &str = "RFAMILY";
pub(crate) const THROTTLE_SK: &str = "THROTTLE";
pub(crate) const SESSION_SK: &str = "SESSION";
pub(crate) const CHANNEL_SK: &str = "CHANNEL";
pub(crate) const WABA_TOKEN_SK: &str = "TOKEN";
pub(crate) const CONSENT_SK_PREFIX: &str = "CONSENT#";
pub(crate) const TEMPLATE_SK: &str = "TEMPLATE";
pub(crate) const SEND_PACE_SK: &str = "PACE";
pub(crate) const CAMPAIGN_SK: &str = "CAMPAIGN";
pub(crate) const MEDIA_UPLOAD_SK: &str = "MEDIA_UPLOAD";

const MAX_SEGMENT_LEN: usize = 256;

/// A key segment followed by more key: non-empty, no `#`, bounded.
fn segment<'a>(kind: &'static str, value: &'a str) -> Result<&'a str, StoreError> {
    if value.is_empty() {
        return Err(StoreError::InvalidKey {
            kind,
            reason: "empty",
        });
    }
    if value.contains('#') {
        return Err(StoreError::InvalidKey {
            kind,
            reason: "contains `#`",
        });
    }
    if value.len() > MAX_SEGMENT_LEN {
        return Err(StoreError::InvalidKey {
            kind,
            reason: "too long",
        });
    }
    Ok(value)
}

/// The last segment of a key: it may contain `#`, nothing follows it to be confused with.
fn last_segment<'a>(kind: &'static str, value: &'a str) -> Result<&'a str, StoreError> {
    if value.is_empty() {
        return Err(StoreError::InvalidKey {
            kind,
            reason: "empty",
        });
    }
    if value.len() > MAX_SEGMENT_LEN {
        return Err(StoreError::InvalidKey {
            kind,
            reason: "too long",
        });
    }
    Ok(value)
}

/// `T#{tenant}`: the tenant's own items, and the prefix of every other tenant key.
pub(crate) fn tenant_pk(tenant: &TenantId) -> Result<String, StoreError> {
    Ok(format!("T#{}", segment("tenant id", tenant.as_str())?))
}

/// Keys under this prefix belong to the tenant and to no one else.
pub(crate) fn tenant_prefix(tenant: &TenantId) -> Result<String, StoreError> {
    Ok(format!("{}#", tenant_pk(tenant)?))
}

pub(crate) fn conversation_pk(
    tenant: &TenantId,
    id: &ConversationId,
) -> Result<String, StoreError> {
    Ok(format!(
        "{}CONV#{}",
        tenant_prefix(tenant)?,
        last_segment("conversation id", id.as_str())?
    ))
}

/// Messages sort after their conversation's time then id, so a query reads them in order.
pub(crate) fn message_sk(ordered_at: &str, id: &MessageId) -> Result<String, StoreError> {
    Ok(format!(
        "{MESSAGE_SK_PREFIX}{ordered_at}#{}",
        last_segment("message id", id.as_str())?
    ))
}

pub(crate) fn conversations_gsi1pk(tenant: &TenantId) -> Result<String, StoreError> {
    Ok(format!("{}CONVS", tenant_prefix(tenant)?))
}

pub(crate) fn contact_pk(tenant: &TenantId, contact: &ContactKey) -> Result<String, StoreError> {
    last_segment("contact", contact.id())?;
    Ok(format!(
        "{}CONTACT#{}",
        tenant_prefix(tenant)?,
        contact.storage_key()
    ))
}

pub(crate) fn contacts_gsi1pk(tenant: &TenantId) -> Result<String, StoreError> {
    Ok(format!("{}CONTACTS", tenant_prefix(tenant)?))
}

/// A consent change in the contact's partition, in time order.
pub(crate) fn consent_sk(at: &str, id: &str) -> Result<String, StoreError> {
    Ok(format!(
        "{CONSENT_SK_PREFIX}{at}#{}",
        last_segment("consent change id", id)?
    ))
}

pub(crate) fn message_pointer_pk(tenant: &TenantId, id: &MessageId) -> Result<String, StoreError> {
    Ok(format!(
        "{}MSGID#{}",
        tenant_prefix(tenant)?,
        last_segment("message id", id.as_str())?
    ))
}

/// Holds the wamid's pointer (`PTR`) and any statuses that arrived before it (`PENDING#…`).
pub(crate) fn wamid_pk(tenant: &TenantId, wamid: &Wamid) -> Result<String, StoreError> {
    Ok(format!(
        "{}WAMID#{}",
        tenant_prefix(tenant)?,
        last_segment("wamid", wamid.as_str())?
    ))
}

pub(crate) fn pending_status_sk(status: MessageStatus) -> String {
    format!("{PENDING_STATUS_SK_PREFIX}{}", status.as_str())
}

pub(crate) fn tenant_event_pk(tenant: &TenantId, field: &str) -> Result<String, StoreError> {
    Ok(format!(
        "{}EVENTS#{}",
        tenant_prefix(tenant)?,
        segment("event field", field)?
    ))
}

pub(crate) fn event_sk(event_key: &str) -> Result<String, StoreError> {
    Ok(format!(
        "{EVENT_SK_PREFIX}{}",
        last_segment("event key", event_key)?
    ))
}

pub(crate) fn phone_route_pk(phone_number_id: &str) -> Result<String, StoreError> {
    Ok(format!(
        "PHONE#{}",
        segment("phone number id", phone_number_id)?
    ))
}

/// Refusing anything but a lowercase SHA-256 digest keeps a raw key from ever becoming a key.
pub(crate) fn api_key_pk(key_hash: &str) -> Result<String, StoreError> {
    Ok(format!(
        "APIKEY#{}",
        digest_segment("api key hash", key_hash)?
    ))
}

/// A lowercase hex SHA-256 digest, the only form secrets and e-mail addresses take in keys.
fn digest_segment<'a>(kind: &'static str, value: &'a str) -> Result<&'a str, StoreError> {
    let is_sha256_hex = value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !is_sha256_hex {
        return Err(StoreError::InvalidKey {
            kind,
            reason: "not a lowercase hex SHA-256 digest",
        });
    }
    Ok(value)
}

pub(crate) fn user_pk(tenant: &TenantId, user: &UserId) -> Result<String, StoreError> {
    Ok(format!(
        "{}USER#{}",
        tenant_prefix(tenant)?,
        last_segment("user id", user.as_str())?
    ))
}

pub(crate) fn users_gsi1pk(tenant: &TenantId) -> Result<String, StoreError> {
    Ok(format!("{}USERS", tenant_prefix(tenant)?))
}

pub(crate) fn api_keys_gsi1pk(tenant: &TenantId) -> Result<String, StoreError> {
    Ok(format!("{}APIKEYS", tenant_prefix(tenant)?))
}

/// Global: a sign-in names an e-mail address, not a tenant. Keyed by the digest of the
/// normalized address, so the key itself holds no address.
pub(crate) fn email_pk(email_digest: &str) -> Result<String, StoreError> {
    Ok(format!(
        "EMAIL#{}",
        digest_segment("e-mail digest", email_digest)?
    ))
}

/// A refresh token names its tenant; its digest finds the record inside that tenant only.
pub(crate) fn refresh_token_pk(
    tenant: &TenantId,
    token_digest: &str,
) -> Result<String, StoreError> {
    Ok(format!(
        "{}RTOKEN#{}",
        tenant_prefix(tenant)?,
        digest_segment("refresh token digest", token_digest)?
    ))
}

pub(crate) fn refresh_family_pk(tenant: &TenantId, family: &str) -> Result<String, StoreError> {
    Ok(format!(
        "{}RFAMILY#{}",
        tenant_prefix(tenant)?,
        last_segment("refresh token family", family)?
    ))
}

/// A session cookie names its tenant; its digest finds the session inside that tenant only.
pub(crate) fn session_pk(tenant: &TenantId, token_digest: &str) -> Result<String, StoreError> {
    Ok(format!(
        "{}SESSION#{}",
        tenant_prefix(tenant)?,
        digest_segment("session digest", token_digest)?
    ))
}

/// Global: failed sign-ins are counted before any tenant is known.
pub(crate) fn throttle_pk(kind: &str, subject_digest: &str) -> Result<String, StoreError> {
    Ok(format!(
        "THROTTLE#{}#{}",
        segment("throttle kind", kind)?,
        digest_segment("throttle subject", subject_digest)?
    ))
}

/// A tenant's hourly counters of prohibited-content refusals (sort key `H#{hour}`).
pub(crate) fn prohibited_refusals_pk(tenant: &TenantId) -> Result<String, StoreError> {
    Ok(format!("{}PROHIBITED", tenant_prefix(tenant)?))
}

pub(crate) fn channel_pk(
    tenant: &TenantId,
    kind: &str,
    phone_number_id: &str,
) -> Result<String, StoreError> {
    Ok(format!(
        "{}CHANNEL#{}#{}",
        tenant_prefix(tenant)?,
        segment("channel kind", kind)?,
        segment("phone number id", phone_number_id)?
    ))
}

pub(crate) fn channels_gsi1pk(tenant: &TenantId) -> Result<String, StoreError> {
    Ok(format!("{}CHANNELS", tenant_prefix(tenant)?))
}

pub(crate) fn waba_token_pk(tenant: &TenantId, waba_id: &str) -> Result<String, StoreError> {
    Ok(format!(
        "{}WABA#{}",
        tenant_prefix(tenant)?,
        segment("WABA id", waba_id)?
    ))
}

/// One of the items a number's send pace is spread over (see `switchboard_domain::throughput`).
pub(crate) fn send_pace_pk(
    tenant: &TenantId,
    phone_number_id: &str,
    shard: u32,
) -> Result<String, StoreError> {
    Ok(format!(
        "{}PACE#{}#{shard}",
        tenant_prefix(tenant)?,
        segment("phone number id", phone_number_id)?
    ))
}

/// Global: WABA-level webhooks name a WABA, not a tenant.
pub(crate) fn waba_route_pk(waba_id: &str) -> Result<String, StoreError> {
    Ok(format!("WABA#{}", segment("WABA id", waba_id)?))
}

/// Template names are `[a-z0-9_]` and language codes `xx_YY`: neither holds `#`.
/// Meta allows template names of up to 512 characters, longer than other segments.
const MAX_TEMPLATE_NAME_LEN: usize = 512;

fn template_name(name: &str) -> Result<&str, StoreError> {
    let kind = "template name";
    let reason = if name.is_empty() {
        "empty"
    } else if name.contains('#') {
        "contains `#`"
    } else if name.len() > MAX_TEMPLATE_NAME_LEN {
        "too long"
    } else {
        return Ok(name);
    };
    Err(StoreError::InvalidKey { kind, reason })
}

pub(crate) fn template_pk(
    tenant: &TenantId,
    waba_id: &str,
    name: &str,
    language: &str,
) -> Result<String, StoreError> {
    Ok(format!(
        "{}TEMPLATE#{}#{}#{}",
        tenant_prefix(tenant)?,
        segment("WABA id", waba_id)?,
        template_name(name)?,
        segment("template language", language)?
    ))
}

/// `{name}#{language}#{waba_id}`: a tenant's templates listed by name, then language.
pub(crate) fn template_gsi1sk(
    name: &str,
    language: &str,
    waba_id: &str,
) -> Result<String, StoreError> {
    Ok(format!(
        "{}#{}#{}",
        template_name(name)?,
        segment("template language", language)?,
        segment("WABA id", waba_id)?
    ))
}

/// The start of [`template_gsi1sk`] for one name (`{name}#`), or one name and language
/// (`{name}#{language}`, without the closing `#`).
pub(crate) fn template_gsi1sk_prefix(
    name: &str,
    language: Option<&str>,
) -> Result<String, StoreError> {
    Ok(match language {
        None => format!("{}#", template_name(name)?),
        Some(language) => format!(
            "{}#{}",
            template_name(name)?,
            segment("template language", language)?
        ),
    })
}

/// All connected WABAs, for jobs that visit each (the template sync): one index partition,
/// written only when a WABA is connected.
pub(crate) const WABAS_GSI1PK: &str = "WABAS";

pub(crate) fn templates_gsi1pk(tenant: &TenantId) -> Result<String, StoreError> {
    Ok(format!("{}TEMPLATES", tenant_prefix(tenant)?))
}

pub(crate) fn audit_pk(tenant: &TenantId, month: &str) -> Result<String, StoreError> {
    check_month(month)?;
    Ok(format!("{}AUDIT#{month}", tenant_prefix(tenant)?))
}

/// Global: an abuse report is the platform operator's, whoever it names.
pub(crate) fn abuse_report_pk(id: &str) -> Result<String, StoreError> {
    Ok(format!("ABUSE#{}", segment("abuse report id", id)?))
}

pub(crate) const ABUSE_REPORT_SK: &str = "REPORT";

/// The index partition of one month's abuse reports (`YYYY-MM`), newest first.
pub(crate) fn abuse_reports_gsi1pk(month: &str) -> Result<String, StoreError> {
    check_month(month)?;
    Ok(format!("ABUSE_REPORTS#{month}"))
}

/// `YYYY-MM` (UTC) of an instant: the month partition or index partition an item dated then
/// goes to (the audit log, abuse reports).
pub fn month_of(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}", at.year(), u8::from(at.month()))
}

fn check_month(month: &str) -> Result<(), StoreError> {
    let is_month = month.len() == 7
        && month.as_bytes()[4] == b'-'
        && month
            .bytes()
            .enumerate()
            .all(|(i, b)| i == 4 || b.is_ascii_digit())
        && month
            .get(5..)
            .and_then(|m| m.parse::<u8>().ok())
            .is_some_and(|m| (1..=12).contains(&m));
    if is_month {
        Ok(())
    } else {
        Err(StoreError::InvalidKey {
            kind: "month",
            reason: "not YYYY-MM",
        })
    }
}

pub(crate) fn unrouted_pk(phone_number_id: &str) -> Result<String, StoreError> {
    Ok(format!(
        "UNROUTED#{}",
        segment("phone number id", phone_number_id)?
    ))
}

pub(crate) fn webhook_idempotency_pk(
    phone_number_id_or_waba: &str,
    event_key: &str,
) -> Result<String, StoreError> {
    Ok(format!(
        "WHEVT#{}#{}",
        segment("phone number or WABA id", phone_number_id_or_waba)?,
        last_segment("event key", event_key)?
    ))
}

pub(crate) fn tenant_idempotency_pk(
    tenant: &TenantId,
    scope: &str,
    key: &str,
) -> Result<String, StoreError> {
    Ok(format!(
        "{}IDEM#{}#{}",
        tenant_prefix(tenant)?,
        segment("idempotency scope", scope)?,
        last_segment("idempotency key", key)?
    ))
}

/// `T#{tenant}#CAMPAIGN#{id}`: the campaign and its recipient chunks.
pub(crate) fn media_upload_pk(tenant: &TenantId, id: &str) -> Result<String, StoreError> {
    Ok(format!(
        "{}UPLOAD#{}",
        tenant_prefix(tenant)?,
        last_segment("upload id", id)?
    ))
}

pub(crate) fn campaign_pk(tenant: &TenantId, id: &str) -> Result<String, StoreError> {
    Ok(format!(
        "{}CAMPAIGN#{}",
        tenant_prefix(tenant)?,
        last_segment("campaign id", id)?
    ))
}

/// `CHUNK#{index}`, zero-padded so chunks sort in order.
pub(crate) fn campaign_chunk_sk(index: u32) -> String {
    format!("CHUNK#{index:05}")
}

/// The tenant's campaigns in the index, newest last by creation time.
pub(crate) fn campaigns_gsi1pk(tenant: &TenantId) -> Result<String, StoreError> {
    Ok(format!("{}CAMPAIGNS", tenant_prefix(tenant)?))
}

/// The messages of one campaign in the index: their statuses are its counts.
pub(crate) fn campaign_messages_gsi1pk(tenant: &TenantId, id: &str) -> Result<String, StoreError> {
    Ok(format!(
        "{}CAMPAIGNMSGS#{}",
        tenant_prefix(tenant)?,
        last_segment("campaign id", id)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_id_cannot_reach_into_another_tenants_keys() {
        assert!(tenant_pk(&TenantId::from("acme#CONV")).is_err());
        assert!(tenant_pk(&TenantId::from("")).is_err());
        let a = conversation_pk(&TenantId::from("acme"), &ConversationId::new("conv_1")).unwrap();
        assert!(a.starts_with(&tenant_prefix(&TenantId::from("acme")).unwrap()));
        assert!(!a.starts_with(&tenant_prefix(&TenantId::from("acm")).unwrap()));
    }

    #[test]
    fn only_a_sha256_digest_is_accepted_as_api_key_hash() {
        assert!(api_key_pk(&"ab".repeat(32)).is_ok());
        assert!(api_key_pk("sk_live_raw_key").is_err());
        assert!(api_key_pk(&"AB".repeat(32)).is_err());
    }

    #[test]
    fn webhook_keys_cannot_be_ambiguous() {
        assert!(webhook_idempotency_pk("1#2", "3").is_err());
        assert_eq!(webhook_idempotency_pk("12", "a#b").unwrap(), "WHEVT#12#a#b");
    }
}
