//! Message templates of a tenant's WABAs, as Meta reviewed them. Created in Meta first (review
//! is never bypassed), stored here, then moved by Meta's template webhooks and the scheduled
//! sync. The compliance policy reads `status` and `category` before every template send.
//!
//! Meta reports status, category and quality separately and each report carries its own time,
//! so each of the three keeps the time of the report it came from (`status_at`, `category_at`,
//! `quality_at`): a late status report is judged against the last status, never against a
//! newer quality report. Until Meta has reported anything, a time is absent, and any report
//! wins over what the creation answer said.

use crate::cursor::Cursors;
use crate::error::{StoreError, from_sdk};
use crate::expression::{Placeholders, UpdateExpression};
use crate::item::{from_item, keyed, s, to_value};
use crate::keys;
use crate::listing::{IndexFilter, IndexListing};
use crate::page::Page;
use crate::store::{Conditional, Store};
use crate::timestamp;
use serde::{Deserialize, Serialize};
use switchboard_domain::TenantId;
use time::OffsetDateTime;

/// What Meta's template listing says of a template once it is gone there; the sync marks
/// templates Meta no longer lists with it.
pub const DELETED_STATUS: &str = "DELETED";

/// The status of a template whose creation request has not been answered by Meta yet (the
/// item holds the name while it is being submitted).
pub const SUBMITTING_STATUS: &str = "SUBMITTING";

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
    /// ([`SUBMITTING_STATUS`] until Meta answered the creation).
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
    /// When the status report applied last happened (Meta's time, or the sync's); absent
    /// while the status is the one the creation answer gave.
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub status_at: Option<OffsetDateTime>,
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub category_at: Option<OffsetDateTime>,
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub quality_at: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

/// A change Meta reported (webhook or sync) to a template.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateChange {
    /// Meta's id of the template the report is about. A stored template with another id is
    /// another template of the same name and language (deleted and created again): the
    /// report is not applied to it. A stored template without an id takes this one.
    pub template_id: Option<String>,
    /// With `reason`: a status report.
    pub status: Option<String>,
    pub reason: Option<String>,
    pub category: Option<String>,
    pub quality: Option<String>,
}

/// Meta's answer to a template's creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateSubmitted {
    pub template_id: String,
    pub status: String,
    pub category: String,
}

/// The three kinds of report, each ordered by its own time.
#[derive(Clone, Copy)]
enum Part {
    Status,
    Category,
    Quality,
}

impl Part {
    fn at_attribute(self) -> &'static str {
        match self {
            Part::Status => "status_at",
            Part::Category => "category_at",
            Part::Quality => "quality_at",
        }
    }
}

impl Store {
    /// Stores a template. The same WABA, name and language again replaces it only when
    /// `replace` is set (a resubmission after rejection or deletion); false when it exists.
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
            s(keys::template_gsi1sk(
                &template.name,
                &template.language,
                &template.waba_id,
            )?),
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

    /// Replaces a template only while it still is the one read (`expected_status`, and no
    /// Meta id or the same one): a resubmission must not overwrite a record a concurrent
    /// request or webhook changed meanwhile.
    pub async fn replace_template_if(
        &self,
        tenant: &TenantId,
        template: &TemplateRecord,
        expected_status: &str,
        expected_template_id: Option<&str>,
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
            s(keys::template_gsi1sk(
                &template.name,
                &template.language,
                &template.waba_id,
            )?),
        );
        let mut p = Placeholders::default();
        let status = p.name("status");
        let expected = p.value("expected", s(expected_status));
        let id = p.name("template_id");
        let id_condition = match expected_template_id {
            Some(tid) => format!("{id} = {}", p.value("tid", s(tid))),
            None => format!("attribute_not_exists({id})"),
        };
        let condition = format!(
            "attribute_exists({}) AND {status} = {expected} AND {id_condition}",
            p.name(keys::PK)
        );
        Ok(matches!(
            self.put_if("replace_template", item, &condition, &p)
                .await?,
            Conditional::Written
        ))
    }

    /// Strongly consistent: the compliance gate decides on it.
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

    /// By name, then language, then WABA. With `status`, only templates Meta gave that status
    /// (a page may then hold fewer than `limit`, even none, before the last one).
    pub async fn list_templates(
        &self,
        tenant: &TenantId,
        limit: i32,
        cursor: Option<&str>,
        cursors: Cursors<'_>,
    ) -> Result<Page<TemplateRecord>, StoreError> {
        self.list_templates_with_status(tenant, None, limit, cursor, cursors)
            .await
    }

    pub async fn list_templates_with_status(
        &self,
        tenant: &TenantId,
        status: Option<&str>,
        limit: i32,
        cursor: Option<&str>,
        cursors: Cursors<'_>,
    ) -> Result<Page<TemplateRecord>, StoreError> {
        // The status is part of the listing's scope, so a cursor of one filter is refused by
        // another.
        let operation = match status {
            None => "list_templates",
            Some(_) => "list_templates_by_status",
        };
        let (items, next_cursor) = self
            .list_index_filtered(
                IndexListing {
                    operation,
                    gsi1pk: keys::templates_gsi1pk(tenant)?,
                    pk_prefix: keys::tenant_prefix(tenant)?,
                    sk: keys::TEMPLATE_SK,
                    newest_first: false,
                },
                status.map(|v| IndexFilter {
                    attribute: "status",
                    value: v.to_owned(),
                }),
                limit,
                cursor,
                cursors,
            )
            .await?;
        Ok(Page {
            items: items.into_iter().map(from_item).collect::<Result<_, _>>()?,
            next_cursor,
        })
    }

    /// Every template of the tenant with this name, in any language and WABA (at most 100:
    /// Meta allows far fewer languages per name), optionally of one language. Read from the
    /// index, so a change made a moment ago may not show yet.
    pub async fn find_templates_by_name(
        &self,
        tenant: &TenantId,
        name: &str,
        language: Option<&str>,
    ) -> Result<Vec<TemplateRecord>, StoreError> {
        let prefix = match language {
            Some(language) => format!("{}#", keys::template_gsi1sk_prefix(name, Some(language))?),
            None => keys::template_gsi1sk_prefix(name, None)?,
        };
        let mut p = Placeholders::default();
        let condition = format!(
            "{} = {} AND begins_with({}, {})",
            p.name(keys::GSI1PK),
            p.value("gsi1pk", s(keys::templates_gsi1pk(tenant)?)),
            p.name(keys::GSI1SK),
            p.value("prefix", s(prefix)),
        );
        let out = self
            .client
            .query()
            .table_name(self.table.as_ref())
            .index_name(keys::GSI1)
            .key_condition_expression(condition)
            .set_expression_attribute_names(p.names())
            .set_expression_attribute_values(p.values())
            .limit(crate::page::MAX_PAGE_SIZE)
            .send()
            .await
            .map_err(|e| from_sdk("find_templates_by_name", e))?;
        let tenant_prefix = keys::tenant_prefix(tenant)?;
        out.items
            .unwrap_or_default()
            .into_iter()
            // The index key already names the tenant; the item's own key is checked too.
            .filter(|item| {
                crate::item::string_attribute(item, keys::PK)
                    .is_some_and(|pk| pk.starts_with(&tenant_prefix))
            })
            .map(from_item)
            .collect()
    }

    /// Records Meta's answer to the creation: its id, and the status and category it gave,
    /// unless a webhook about the template was applied in the meantime (it is newer).
    pub async fn record_template_submitted(
        &self,
        tenant: &TenantId,
        waba_id: &str,
        name: &str,
        language: &str,
        answer: &TemplateSubmitted,
    ) -> Result<(), StoreError> {
        let TemplateSubmitted {
            template_id,
            status,
            category,
        } = answer;
        let (template_id, status, category) =
            (template_id.as_str(), status.as_str(), category.as_str());
        let pk = keys::template_pk(tenant, waba_id, name, language)?;
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        let id = p.name("template_id");
        let tid = p.value("tid", s(template_id));
        u.set(format!("{id} = {tid}"));
        u.set(format!(
            "{} = {}",
            p.name("status"),
            p.value("status", s(status))
        ));
        u.set(format!(
            "{} = {}",
            p.name("category"),
            p.value("category", s(category))
        ));
        let condition = format!(
            "attribute_exists({pk}) AND attribute_not_exists({status_at}) \
             AND attribute_not_exists({category_at}) \
             AND (attribute_not_exists({id}) OR {id} = {tid})",
            pk = p.name(keys::PK),
            status_at = p.name("status_at"),
            category_at = p.name("category_at"),
        );
        let written = self
            .update_if(
                "record_template_submitted",
                pk.clone(),
                keys::TEMPLATE_SK,
                &u.build(),
                Some(&condition),
                &p,
            )
            .await?;
        if matches!(written, Conditional::Written) {
            return Ok(());
        }
        // Meta reported on it already: only the id is still worth keeping.
        let mut p = Placeholders::default();
        let id = p.name("template_id");
        let tid = p.value("tid", s(template_id));
        let condition = format!(
            "attribute_exists({}) AND attribute_not_exists({id})",
            p.name(keys::PK)
        );
        self.update_if(
            "record_template_submitted",
            pk,
            keys::TEMPLATE_SK,
            &format!("SET {id} = {tid}"),
            Some(&condition),
            &p,
        )
        .await?;
        Ok(())
    }

    /// Applies what Meta reported at `at`: each of status (with its reason), category and
    /// quality unless a report of the same kind at least as new was applied already. True
    /// when any part was applied; false when the template is unknown, is another template
    /// than the report's (see [`TemplateChange::template_id`]) or every part is older.
    pub async fn apply_template_change(
        &self,
        tenant: &TenantId,
        waba_id: &str,
        name: &str,
        language: &str,
        change: &TemplateChange,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let pk = keys::template_pk(tenant, waba_id, name, language)?;
        let mut applied = false;
        let parts = [
            (Part::Status, change.status.is_some()),
            (Part::Category, change.category.is_some()),
            (Part::Quality, change.quality.is_some()),
        ];
        for (part, present) in parts {
            if present {
                applied |= self.apply_part(&pk, part, change, at).await?;
            }
        }
        Ok(applied)
    }

    async fn apply_part(
        &self,
        pk: &str,
        part: Part,
        change: &TemplateChange,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut p = Placeholders::default();
        let mut u = UpdateExpression::default();
        let at_name = p.name(part.at_attribute());
        let at_value = p.value("at", s(timestamp::encode(at)?));
        u.set(format!("{at_name} = {at_value}"));
        match part {
            Part::Status => {
                if let Some(status) = &change.status {
                    set_attribute(&mut p, &mut u, "status", status);
                }
                // A status replaces the reason with its own, or clears it (an approval after a
                // rejection has none).
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
            Part::Category => {
                if let Some(category) = &change.category {
                    set_attribute(&mut p, &mut u, "category", category);
                }
            }
            Part::Quality => {
                if let Some(quality) = &change.quality {
                    set_attribute(&mut p, &mut u, "quality", quality);
                }
            }
        }
        let mut condition = format!(
            "attribute_exists({}) AND (attribute_not_exists({at_name}) OR {at_name} <= {at_value})",
            p.name(keys::PK)
        );
        if let Some(template_id) = &change.template_id {
            let id = p.name("template_id");
            let tid = p.value("tid", s(template_id.as_str()));
            u.set(format!("{id} = {tid}"));
            condition.push_str(&format!(
                " AND (attribute_not_exists({id}) OR {id} = {tid})"
            ));
        }
        Ok(matches!(
            self.update_if(
                "apply_template_change",
                pk.to_owned(),
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

    /// Deletes the template only while it still is the one read: the same Meta id, or still
    /// none (a template created again meanwhile, under a new id, is left alone).
    pub async fn delete_template_if(
        &self,
        tenant: &TenantId,
        template: &TemplateRecord,
    ) -> Result<bool, StoreError> {
        let mut p = Placeholders::default();
        let id = p.name("template_id");
        let id_condition = match &template.template_id {
            Some(tid) => format!("{id} = {}", p.value("tid", s(tid.as_str()))),
            None => format!("attribute_not_exists({id})"),
        };
        let condition = format!("attribute_exists({}) AND {id_condition}", p.name(keys::PK));
        Ok(matches!(
            self.delete_if(
                "delete_template",
                keys::template_pk(
                    tenant,
                    &template.waba_id,
                    &template.name,
                    &template.language
                )?,
                keys::TEMPLATE_SK,
                Some(&condition),
                &p,
            )
            .await?,
            Conditional::Written
        ))
    }
}

fn set_attribute(p: &mut Placeholders, u: &mut UpdateExpression, attribute: &str, value: &str) {
    let clause = format!("{} = {}", p.name(attribute), p.value(attribute, s(value)));
    u.set(clause);
}
