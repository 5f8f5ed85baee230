//! The audit log: who did what, when, from where. One partition per tenant and month (kept
//! 24 months by TTL), newest first within a month.

use crate::cursor::Cursors;
use crate::error::{StoreError, from_sdk};
use crate::expression::Placeholders;
use crate::item::{from_item, keyed, n, s};
use crate::keys;
use crate::page::{Page, clamp_limit};
use crate::store::Store;
use serde::{Deserialize, Serialize};
use switchboard_domain::TenantId;
use time::{Duration, OffsetDateTime};

/// How long entries are kept.
pub const AUDIT_RETENTION: Duration = Duration::days(731);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: String,
    #[serde(with = "crate::timestamp")]
    pub at: OffsetDateTime,
    /// `user:{id}`, `api_key:{id}`, `operator`.
    pub actor: String,
    /// `auth.login`, `api_key.created`, …
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    /// What it was done to, e.g. `user:{id}`, `channel:{phone_number_id}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Non-personal details (a role, a key's scopes, a reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Store {
    pub async fn append_audit(
        &self,
        tenant: &TenantId,
        entry: &AuditEntry,
    ) -> Result<(), StoreError> {
        let sk = format!("{}#{}", crate::timestamp::encode(entry.at)?, entry.id);
        let mut item = keyed(
            entry,
            "audit",
            keys::audit_pk(tenant, &keys::month_of(entry.at))?,
            sk,
        )?;
        item.insert(
            keys::EXPIRES_AT.to_owned(),
            n(crate::timestamp::epoch_seconds_ceil(
                entry.at + AUDIT_RETENTION,
            )),
        );
        self.put("append_audit", item).await
    }

    /// One month's entries (`YYYY-MM`), newest first.
    pub async fn list_audit(
        &self,
        tenant: &TenantId,
        month: &str,
        limit: i32,
        cursor: Option<&str>,
        cursors: Cursors<'_>,
    ) -> Result<Page<AuditEntry>, StoreError> {
        let pk = keys::audit_pk(tenant, month)?;
        let scope = format!("audit:{pk}");
        let start = cursor
            .map(|c| {
                cursors.decode(&scope, c, |key| {
                    key.len() == 2 && key.get(keys::PK) == Some(&pk) && key.contains_key(keys::SK)
                })
            })
            .transpose()?;
        let mut p = Placeholders::default();
        let condition = format!("{} = {}", p.name(keys::PK), p.value("pk", s(pk.as_str())));
        let out = self
            .client
            .query()
            .table_name(self.table.as_ref())
            .key_condition_expression(condition)
            .set_expression_attribute_names(p.names())
            .set_expression_attribute_values(p.values())
            .scan_index_forward(false)
            .limit(clamp_limit(limit))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| from_sdk("list_audit", e))?;
        Ok(Page {
            items: out
                .items
                .unwrap_or_default()
                .into_iter()
                .map(from_item)
                .collect::<Result<_, _>>()?,
            next_cursor: cursors.next(&scope, out.last_evaluated_key.as_ref())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn months_are_fixed_width() {
        assert_eq!(keys::month_of(datetime!(2026-03-01 00:00 UTC)), "2026-03");
    }
}
