//! Customers of a tenant. Each contact is its own partition, so a tenant with many customers
//! spreads its writes across the table. The partition also holds the contact's consent
//! history (see `consent`).

use crate::consent::MarketingConsent;
use crate::error::{StoreError, from_sdk};
use crate::expression::{Placeholders, UpdateExpression};
use crate::item::{from_item, s, to_value};
use crate::keys;
use crate::store::Store;
use crate::timestamp;
use serde::{Deserialize, Serialize};
use switchboard_domain::{ContactId, ContactKey, TenantId};
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRecord {
    pub id: ContactId,
    pub contact: ContactKey,
    /// The WhatsApp profile name from the customer's latest message.
    pub profile_name: Option<String>,
    #[serde(with = "crate::timestamp")]
    pub first_seen_at: OffsetDateTime,
    /// Send time of the customer's latest message; only moves forward. None for a contact the
    /// business imported who has not written yet.
    #[serde(default, with = "crate::timestamp::option")]
    pub last_inbound_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub consent: MarketingConsent,
    /// When marketing templates were sent to this customer lately (the frequency cap counts
    /// them). Only the outbound function writes it, one recipient at a time.
    #[serde(default, with = "crate::timestamp::vec")]
    pub marketing_sent_at: Vec<OffsetDateTime>,
}

/// A contact item as any version wrote it: items from before contact ids lack `id`.
#[derive(Deserialize)]
struct StoredContact {
    id: Option<ContactId>,
    contact: ContactKey,
    profile_name: Option<String>,
    #[serde(with = "crate::timestamp")]
    first_seen_at: OffsetDateTime,
    #[serde(default, with = "crate::timestamp::option")]
    last_inbound_at: Option<OffsetDateTime>,
    #[serde(default)]
    consent: MarketingConsent,
    #[serde(default, with = "crate::timestamp::vec")]
    marketing_sent_at: Vec<OffsetDateTime>,
}

impl StoredContact {
    fn into_record(self, tenant: &TenantId) -> ContactRecord {
        ContactRecord {
            id: self
                .id
                .unwrap_or_else(|| ContactId::derive(tenant, &self.contact)),
            contact: self.contact,
            profile_name: self.profile_name,
            first_seen_at: self.first_seen_at,
            last_inbound_at: self.last_inbound_at,
            consent: self.consent,
            marketing_sent_at: self.marketing_sent_at,
        }
    }
}

/// A contact item as [`Store::get_contact`] returns it, whichever version wrote it.
pub(crate) fn contact_from_item(
    item: crate::item::Item,
    tenant: &TenantId,
) -> Result<ContactRecord, StoreError> {
    from_item::<StoredContact>(item).map(|c| c.into_record(tenant))
}

/// The attributes every write of a contact sets if they are missing, so whichever write comes
/// first (an inbound message, an import, an opt-in) creates a complete item.
pub(crate) fn set_contact_identity(
    p: &mut Placeholders,
    u: &mut UpdateExpression,
    tenant: &TenantId,
    contact: &ContactKey,
    first_seen_at: OffsetDateTime,
) -> Result<(), StoreError> {
    let id = ContactId::derive(tenant, contact);
    u.set(format!(
        "{} = {}",
        p.name("contact"),
        p.value("contact", to_value(contact)?)
    ));
    u.set(format!(
        "{} = {}",
        p.name("id"),
        p.value("id", s(id.as_str()))
    ));
    u.set(format!(
        "{} = {}",
        p.name(keys::ENTITY),
        p.value("entity", s("contact"))
    ));
    let first = p.name("first_seen_at");
    u.set(format!(
        "{first} = if_not_exists({first}, {})",
        p.value("first", s(timestamp::encode(first_seen_at)?))
    ));
    u.set(format!(
        "{} = {}",
        p.name(keys::GSI1PK),
        p.value("gsi1pk", s(keys::contacts_gsi1pk(tenant)?))
    ));
    u.set(format!(
        "{} = {}",
        p.name(keys::GSI1SK),
        p.value("gsi1sk", s(id.as_str()))
    ));
    Ok(())
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
        .map(|item| contact_from_item(item, tenant))
        .transpose()
    }

    /// The contact with this id, through the contacts index (eventually consistent; the item
    /// itself is then read strongly).
    pub async fn find_contact_by_id(
        &self,
        tenant: &TenantId,
        id: &ContactId,
    ) -> Result<Option<ContactRecord>, StoreError> {
        let mut p = Placeholders::default();
        let condition = format!(
            "{} = {} AND {} = {}",
            p.name(keys::GSI1PK),
            p.value("gsi1pk", s(keys::contacts_gsi1pk(tenant)?)),
            p.name(keys::GSI1SK),
            p.value("gsi1sk", s(id.as_str())),
        );
        let out = self
            .client
            .query()
            .table_name(self.table.as_ref())
            .index_name(keys::GSI1)
            .key_condition_expression(condition)
            .set_expression_attribute_names(p.names())
            .set_expression_attribute_values(p.values())
            .limit(1)
            .send()
            .await
            .map_err(|e| from_sdk("find_contact_by_id", e))?;
        let Some(item) = out.items.unwrap_or_default().into_iter().next() else {
            return Ok(None);
        };
        let found: StoredContact = from_item(item)?;
        self.get_contact(tenant, &found.contact).await
    }

    /// Creates the contact if it does not exist; an existing one is left as it is.
    pub async fn ensure_contact(
        &self,
        tenant: &TenantId,
        contact: &ContactKey,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        set_contact_identity(&mut p, &mut u, tenant, contact, at)?;
        self.update_if(
            "ensure_contact",
            keys::contact_pk(tenant, contact)?,
            keys::CONTACT_SK,
            &u.build(),
            None,
            &p,
        )
        .await?;
        Ok(())
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
        set_contact_identity(&mut p, &mut u, tenant, contact, received_at)?;
        if let Some(name) = profile_name {
            u.set(format!(
                "{} = {}",
                p.name("profile_name"),
                p.value("profile", s(name))
            ));
        }
        let condition = format!("attribute_not_exists({last}) OR {last} < {t}");
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

    /// Records a marketing template sent to the customer, keeping only the sends after
    /// `keep_after` (older ones no cap counts). Sends to one recipient are serialized by the
    /// outbound queue's message group (tenant and recipient), so read-modify-write is safe.
    pub async fn record_marketing_send(
        &self,
        tenant: &TenantId,
        contact: &ContactKey,
        at: OffsetDateTime,
        keep_after: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut sent: Vec<OffsetDateTime> = self
            .get_contact(tenant, contact)
            .await?
            .map(|c| c.marketing_sent_at)
            .unwrap_or_default();
        sent.retain(|t| *t > keep_after);
        sent.push(at);
        sent.sort();
        let encoded = sent
            .iter()
            .map(|t| timestamp::encode(*t).map(s))
            .collect::<Result<Vec<_>, _>>()?;
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        set_contact_identity(&mut p, &mut u, tenant, contact, at)?;
        u.set(format!(
            "{} = {}",
            p.name("marketing_sent_at"),
            p.value("sent", aws_sdk_dynamodb::types::AttributeValue::L(encoded))
        ));
        self.update_if(
            "record_marketing_send",
            keys::contact_pk(tenant, contact)?,
            keys::CONTACT_SK,
            &u.build(),
            None,
            &p,
        )
        .await?;
        Ok(())
    }
}
