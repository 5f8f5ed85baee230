//! Message templates of a tenant's WABAs, as Meta reviewed them. Created in Meta first (review
//! is never bypassed), stored here, then moved by Meta's template webhooks and the scheduled
//! sync. The compliance policy reads `status` and `category` before every template send.

use crate::cursor::Cursors;
use crate::error::StoreError;
use crate::expression::{Placeholders, UpdateExpression};
use crate::item::{from_item, keyed, s, to_value};
use crate::keys;
use crate::listing::IndexListing;
use crate::page::Page;
use crate::store::{Conditional, Store};
use crate::timestamp;
use serde::{Deserialize, Serialize};
use switchboard_domain::TenantId;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateRecord {
    pub waba_id: String,
    pub name: String,
    /// Meta's language code, e.g. `en_US`.
    pub language: String,
    /// Meta's id of the template, once Meta has answered the creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    /// `MARKETING`, `UTILITY` or `AUTHENTICATION`, as Meta last categorized it.
    pub category: String,
    /// Meta's review status: `PENDING`, `APPROVED`, `REJECTED`, `PAUSED`, `DISABLED`, …
    pub status: String,
    /// Why Meta rejected, paused or disabled it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Meta's quality score: `GREEN`, `YELLOW`, `RED` or `UNKNOWN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<String>,
    /// The components as submitted to Meta, JSON.
    pub components_json: String,
    #[serde(with = "crate::timestamp")]
    pub created_at: OffsetDateTime,
    /// When Meta's latest applied change happened: older updates arriving late are ignored.
    #[serde(with = "crate::timestamp")]
    pub status_at: OffsetDateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

/// A change Meta reported (webhook or sync) to a template.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateChange {
    pub template_id: Option<String>,
    pub status: Option<String>,
    pub reason: Option<String>,
    pub category: Option<String>,
    pub quality: Option<String>,
}

impl Store {
    /// Stores a template Meta accepted for review. The same WABA, name and language again
    /// replaces it only when `replace` is set (a resubmission after rejection or deletion).
    pub async fn put_template(
        &self,
        tenant: &TenantId,
        template: &TemplateRecord,
        replace: bool,
    ) -> Result<bool, StoreError> {
        let mut item = keyed(
            template,
            "template",
            keys::template_pk(
                tenant,
                &template.waba_id,
                &template.name,
                &template.language,
            )?,
            keys::TEMPLATE_SK,
        )?;
        item.insert(keys::GSI1PK.to_owned(), s(keys::templates_gsi1pk(tenant)?));
        item.insert(
            keys::GSI1SK.to_owned(),
            s(format!(
                "{}#{}#{}",
                template.name, template.language, template.waba_id
            )),
        );
        if replace {
            self.put("put_template", item).await?;
            return Ok(true);
        }
        let mut p = Placeholders::default();
        let condition = format!("attribute_not_exists({})", p.name(keys::PK));
        Ok(matches!(
            self.put_if("put_template", item, &condition, &p).await?,
            Conditional::Written
        ))
    }

    pub async fn get_template(
        &self,
        tenant: &TenantId,
        waba_id: &str,
        name: &str,
        language: &str,
    ) -> Result<Option<TemplateRecord>, StoreError> {
        self.get(
            "get_template",
            keys::template_pk(tenant, waba_id, name, language)?,
            keys::TEMPLATE_SK,
        )
        .await?
        .map(from_item)
        .transpose()
    }

    /// By name, then language, then WABA.
    pub async fn list_templates(
        &self,
        tenant: &TenantId,
        limit: i32,
        cursor: Option<&str>,
        cursors: Cursors<'_>,
    ) -> Result<Page<TemplateRecord>, StoreError> {
        self.list_index_of(
            IndexListing {
                operation: "list_templates",
                gsi1pk: keys::templates_gsi1pk(tenant)?,
                pk_prefix: keys::tenant_prefix(tenant)?,
                sk: keys::TEMPLATE_SK,
                newest_first: false,
            },
            limit,
            cursor,
            cursors,
        )
        .await
    }

    /// Applies what Meta reported at `at`, unless a later report was applied already. False
    /// when the template is unknown or the report is older than the stored state.
    pub async fn apply_template_change(
        &self,
        tenant: &TenantId,
        waba_id: &str,
        name: &str,
        language: &str,
        change: &TemplateChange,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        let at_name = p.name("status_at");
        let at_value = p.value("at", s(timestamp::encode(at)?));
        u.set(format!("{at_name} = {at_value}"));
        let fields = [
            ("template_id", &change.template_id),
            ("status", &change.status),
            ("category", &change.category),
            ("quality", &change.quality),
        ];
        for (attribute, value) in fields {
            if let Some(v) = value {
                u.set(format!(
                    "{} = {}",
                    p.name(attribute),
                    p.value(attribute, s(v.as_str()))
                ));
            }
        }
        // A status change replaces the reason with its own, or clears it (an approval after a
        // rejection has none).
        if change.status.is_some() {
            match &change.reason {
                Some(reason) => {
                    u.set(format!(
                        "{} = {}",
                        p.name("reason"),
                        p.value("reason", to_value(reason)?)
                    ));
                }
                None => {
                    u.remove(p.name("reason"));
                }
            }
        }
        let condition = format!(
            "attribute_exists({}) AND {at_name} <= {at_value}",
            p.name(keys::PK)
        );
        Ok(matches!(
            self.update_if(
                "apply_template_change",
                keys::template_pk(tenant, waba_id, name, language)?,
                keys::TEMPLATE_SK,
                &u.build(),
                Some(&condition),
                &p,
            )
            .await?,
            Conditional::Written
        ))
    }

    pub async fn delete_template(
        &self,
        tenant: &TenantId,
        waba_id: &str,
        name: &str,
        language: &str,
    ) -> Result<bool, StoreError> {
        let p = Placeholders::default();
        Ok(matches!(
            self.delete_if(
                "delete_template",
                keys::template_pk(tenant, waba_id, name, language)?,
                keys::TEMPLATE_SK,
                None,
                &p,
            )
            .await?,
            Conditional::Written
        ))
    }
}
