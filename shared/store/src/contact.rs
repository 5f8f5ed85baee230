//! Customers of a tenant. Each contact is its own partition, so a tenant with many customers
//! spreads its writes across the table.

use crate::error::StoreError;
use crate::expression::{Placeholders, UpdateExpression};
use crate::item::{from_item, s, to_value};
use crate::keys;
use crate::store::Store;
use crate::timestamp;
use serde::{Deserialize, Serialize};
use switchboard_domain::{ContactKey, TenantId};
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRecord {
    pub contact: ContactKey,
    /// The WhatsApp profile name from the customer's latest message.
    pub profile_name: Option<String>,
    #[serde(with = "crate::timestamp")]
    pub first_seen_at: OffsetDateTime,
    /// Send time of the customer's latest message; only moves forward.
    #[serde(with = "crate::timestamp")]
    pub last_inbound_at: OffsetDateTime,
}

impl Store {
    pub async fn get_contact(
        &self,
        tenant: &TenantId,
        contact: &ContactKey,
    ) -> Result<Option<ContactRecord>, StoreError> {
        self.get(
            "get_contact",
            keys::contact_pk(tenant, contact)?,
            keys::CONTACT_SK,
        )
        .await?
        .map(from_item)
        .transpose()
    }

    /// Creates the contact, or moves it to this message if it is the customer's latest: the
    /// profile name of an older message arriving late does not replace a newer one.
    pub(crate) async fn advance_contact(
        &self,
        tenant: &TenantId,
        contact: &ContactKey,
        profile_name: Option<&str>,
        sent_at: OffsetDateTime,
        received_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        let last = p.name("last_inbound_at");
        let t = p.value("t", s(timestamp::encode(sent_at)?));
        u.set(format!("{last} = {t}"));
        let first = p.name("first_seen_at");
        u.set(format!(
            "{first} = if_not_exists({first}, {})",
            p.value("first", s(timestamp::encode(received_at)?))
        ));
        u.set(format!(
            "{} = {}",
            p.name("contact"),
            p.value("contact", to_value(contact)?)
        ));
        u.set(format!(
            "{} = {}",
            p.name(keys::ENTITY),
            p.value("entity", s("contact"))
        ));
        if let Some(name) = profile_name {
            u.set(format!(
                "{} = {}",
                p.name("profile_name"),
                p.value("profile", s(name))
            ));
        }
        let condition = format!("attribute_not_exists({}) OR {last} < {t}", p.name(keys::PK));
        self.update_if(
            "advance_contact",
            keys::contact_pk(tenant, contact)?,
            keys::CONTACT_SK,
            &u.build(),
            Some(&condition),
            &p,
        )
        .await?;
        Ok(())
    }
}
