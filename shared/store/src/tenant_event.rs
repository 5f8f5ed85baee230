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
