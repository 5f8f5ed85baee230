//! Webhook changes that are not messages (template status, account updates, …), kept per
//! tenant and field for features that will read them. Low volume, so one partition per tenant
//! and field is enough.

use crate::error::StoreError;
use crate::expression::Placeholders;
use crate::item::{key, s};
use crate::keys;
use crate::store::Store;
use crate::timestamp;
use switchboard_domain::TenantId;
use time::OffsetDateTime;

impl Store {
    /// Keeps the event once per `event_key`; a redelivery changes nothing.
    pub async fn record_tenant_event(
        &self,
        tenant: &TenantId,
        event_key: &str,
        field: &str,
        raw_json: &str,
        received_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut item = key(
            keys::tenant_event_pk(tenant, field)?,
            keys::event_sk(event_key)?,
        );
        item.extend([
            (keys::ENTITY.to_owned(), s("tenant_event")),
            ("event_key".to_owned(), s(event_key)),
            ("field".to_owned(), s(field)),
            ("raw_json".to_owned(), s(raw_json)),
            ("received_at".to_owned(), s(timestamp::encode(received_at)?)),
        ]);
        let mut p = Placeholders::default();
        let condition = format!("attribute_not_exists({})", p.name(keys::PK));
        self.put_if("record_tenant_event", item, &condition, &p)
            .await?;
        Ok(())
    }
}

/// A kept webhook change, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantEvent {
    pub event_key: String,
    pub field: String,
    pub raw_json: String,
}

impl Store {
    /// Up to `limit` kept changes of one field, oldest key first.
    pub async fn list_tenant_events(
        &self,
        tenant: &TenantId,
        field: &str,
        limit: i32,
    ) -> Result<Vec<TenantEvent>, StoreError> {
        let mut p = Placeholders::default();
        let condition = format!(
            "{} = {}",
            p.name(keys::PK),
            p.value("pk", s(keys::tenant_event_pk(tenant, field)?))
        );
        let out = self
            .client
            .query()
            .table_name(self.table.as_ref())
            .key_condition_expression(condition)
            .set_expression_attribute_names(p.names())
            .set_expression_attribute_values(p.values())
            .limit(crate::page::clamp_limit(limit))
            .send()
            .await
            .map_err(|e| crate::error::from_sdk("list_tenant_events", e))?;
        Ok(out
            .items
            .unwrap_or_default()
            .iter()
            .map(|item| TenantEvent {
                event_key: crate::item::string_attribute(item, "event_key")
                    .unwrap_or_default()
                    .to_owned(),
                field: crate::item::string_attribute(item, "field")
                    .unwrap_or_default()
                    .to_owned(),
                raw_json: crate::item::string_attribute(item, "raw_json")
                    .unwrap_or_default()
                    .to_owned(),
            })
            .collect())
    }
}
