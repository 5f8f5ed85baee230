//! A business using Switchboard: its name, its settings, and whether the platform operator has
//! suspended it (or its marketing is held for review).

use crate::error::{StoreError, from_sdk};
use crate::expression::Placeholders;
use crate::item::{from_item, key, keyed, s, to_value};
use crate::keys;
use crate::store::{Conditional, Store};
use aws_sdk_dynamodb::types::ReturnValue;
use serde::{Deserialize, Serialize};
use switchboard_domain::{TenantId, TenantSettings};
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredTenant")]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    #[serde(with = "crate::timestamp")]
    pub created_at: OffsetDateTime,
    /// Every change to the record moves it; settings are written only where it is still the
    /// one the writer read.
    #[serde(with = "crate::timestamp")]
    pub updated_at: OffsetDateTime,
    pub settings: TenantSettings,
    /// Set while the operator holds the tenant's sending for review.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspension: Option<Suspension>,
    /// Set while the tenant's marketing is held for review (P20): its marketing templates are
    /// refused, everything else still goes. Set by Switchboard itself (repeated prohibited
    /// content, a template rated RED), lifted by the operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketing_suspension: Option<MarketingSuspension>,
}

/// Why and since when the tenant's marketing is held for review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketingSuspension {
    /// A stable code: `prohibited_content` (repeated refusals) or `template_quality_red`.
    pub reason: String,
    #[serde(with = "crate::timestamp")]
    pub since: OffsetDateTime,
}

/// Marketing suspension reason: repeated prohibited-content refusals.
pub const MARKETING_SUSPENDED_PROHIBITED_CONTENT: &str = "prohibited_content";
/// Marketing suspension reason: one of the tenant's templates was rated RED by Meta.
pub const MARKETING_SUSPENDED_TEMPLATE_QUALITY_RED: &str = "template_quality_red";

/// Why and since when the tenant may not send, and who decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suspension {
    /// Shown to the tenant's people; the operator writes it for them.
    pub reason: String,
    #[serde(with = "crate::timestamp")]
    pub at: OffsetDateTime,
    /// `operator`.
    pub by: String,
}

/// A tenant item as any version wrote it: records from before settings existed have neither
/// `settings` nor `updated_at`.
#[derive(Deserialize)]
struct StoredTenant {
    id: TenantId,
    name: String,
    #[serde(with = "crate::timestamp")]
    created_at: OffsetDateTime,
    #[serde(default, with = "crate::timestamp::option")]
    updated_at: Option<OffsetDateTime>,
    #[serde(default)]
    settings: TenantSettings,
    #[serde(default)]
    suspension: Option<Suspension>,
    #[serde(default)]
    marketing_suspension: Option<MarketingSuspension>,
}

impl From<StoredTenant> for Tenant {
    fn from(t: StoredTenant) -> Self {
        Self {
            updated_at: t.updated_at.unwrap_or(t.created_at),
            id: t.id,
            name: t.name,
            created_at: t.created_at,
            settings: t.settings,
            suspension: t.suspension,
            marketing_suspension: t.marketing_suspension,
        }
    }
}

impl Tenant {
    /// A new tenant with the default settings.
    pub fn new(id: TenantId, name: impl Into<String>, now: OffsetDateTime) -> Self {
        Self {
            id,
            name: name.into(),
            created_at: now,
            updated_at: now,
            settings: TenantSettings::default(),
            suspension: None,
            marketing_suspension: None,
        }
    }
}

impl Store {
    /// Creates or replaces the tenant.
    pub async fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        let item = keyed(
            tenant,
            "tenant",
            keys::tenant_pk(&tenant.id)?,
            keys::TENANT_SK,
        )?;
        self.put("put_tenant", item).await
    }

    pub async fn get_tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        self.get("get_tenant", keys::tenant_pk(id)?, keys::TENANT_SK)
            .await?
            .map(from_item)
            .transpose()
    }

    /// Whether the tenant is suspended: the one read a sender needs before it sends. `None`
    /// also for a tenant that does not exist (its callers have other reasons to refuse that).
    pub async fn tenant_suspension(&self, id: &TenantId) -> Result<Option<Suspension>, StoreError> {
        Ok(self.get_tenant(id).await?.and_then(|t| t.suspension))
    }

    /// Writes `name` and `settings` if the tenant is still as `current` was read (its
    /// `updated_at`), so two admins editing at once cannot silently overwrite each other.
    /// `Contended` when someone changed the tenant in between (or it is gone): read again and
    /// retry. The suspension is not touched.
    pub async fn update_tenant_settings(
        &self,
        current: &Tenant,
        name: &str,
        settings: &TenantSettings,
        now: OffsetDateTime,
    ) -> Result<Tenant, StoreError> {
        let mut p = Placeholders::default();
        let update = format!(
            "SET {} = {}, {} = {}, {} = {}",
            p.name("name"),
            p.value("name", s(name)),
            p.name("settings"),
            p.value("settings", to_value(settings)?),
            p.name("updated_at"),
            p.value("now", s(crate::timestamp::encode(now)?)),
        );
        let seen = p.value("seen", s(crate::timestamp::encode(current.updated_at)?));
        // Records written before `updated_at` existed read as updated at creation.
        let condition = format!(
            "{updated} = {seen} OR (attribute_not_exists({updated}) AND {created} = {seen})",
            updated = p.name("updated_at"),
            created = p.name("created_at"),
        );
        match self
            .update_if(
                "update_tenant_settings",
                keys::tenant_pk(&current.id)?,
                keys::TENANT_SK,
                &update,
                Some(&condition),
                &p,
            )
            .await?
        {
            Conditional::Written => Ok(Tenant {
                name: name.to_owned(),
                settings: settings.clone(),
                updated_at: now,
                ..current.clone()
            }),
            Conditional::ConditionFailed(_) => Err(StoreError::Contended {
                operation: "update_tenant_settings",
            }),
        }
    }

    /// Suspends the tenant (`Some`) or lifts the suspension (`None`), whatever the settings
    /// writers do at the same time; returns the tenant as it is now. `NotFound` for a tenant
    /// that does not exist.
    pub async fn set_suspension(
        &self,
        tenant: &TenantId,
        suspension: Option<&Suspension>,
        now: OffsetDateTime,
    ) -> Result<Tenant, StoreError> {
        let mut p = Placeholders::default();
        let mut update = format!(
            "SET {} = {}",
            p.name("updated_at"),
            p.value("now", s(crate::timestamp::encode(now)?))
        );
        match suspension {
            Some(suspension) => update.push_str(&format!(
                ", {} = {}",
                p.name("suspension"),
                p.value("suspension", to_value(suspension)?)
            )),
            None => update.push_str(&format!(" REMOVE {}", p.name("suspension"))),
        }
        let condition = format!("attribute_exists({})", p.name(keys::PK));
        let result = self
            .client
            .update_item()
            .table_name(self.table.as_ref())
            .set_key(Some(key(keys::tenant_pk(tenant)?, keys::TENANT_SK)))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(p.names())
            .set_expression_attribute_values(p.values())
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => out
                .attributes
                .map(from_item)
                .transpose()?
                .ok_or_else(|| StoreError::Decode("set_suspension returned no item".into())),
            Err(err) => match err.as_service_error() {
                Some(e) if e.is_conditional_check_failed_exception() => {
                    Err(StoreError::NotFound { what: "tenant" })
                }
                _ => Err(from_sdk("set_suspension", err)),
            },
        }
    }
}

impl Store {
    /// Holds the tenant's marketing for review. Idempotent: a tenant already held keeps its
    /// first reason and time. True when this call suspended it; `NotFound` for a tenant that
    /// does not exist.
    pub async fn suspend_marketing(
        &self,
        tenant: &TenantId,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let suspension = MarketingSuspension {
            reason: reason.to_owned(),
            since: at,
        };
        let mut p = Placeholders::default();
        let update = format!(
            "SET {} = {}, {} = {}",
            p.name("marketing_suspension"),
            p.value("suspension", to_value(&suspension)?),
            p.name("updated_at"),
            p.value("now", s(crate::timestamp::encode(at)?)),
        );
        let condition = format!(
            "attribute_exists({}) AND attribute_not_exists({})",
            p.name(keys::PK),
            p.name("marketing_suspension"),
        );
        match self
            .update_if(
                "suspend_marketing",
                keys::tenant_pk(tenant)?,
                keys::TENANT_SK,
                &update,
                Some(&condition),
                &p,
            )
            .await?
        {
            Conditional::Written => Ok(true),
            Conditional::ConditionFailed(_) => match self.get_tenant(tenant).await? {
                Some(_) => Ok(false),
                None => Err(StoreError::NotFound { what: "tenant" }),
            },
        }
    }

    /// Lifts the marketing suspension, if any; returns the tenant as it is now. `NotFound` for
    /// a tenant that does not exist. A tenant not held is returned as it is, untouched.
    pub async fn resume_marketing(
        &self,
        tenant: &TenantId,
        now: OffsetDateTime,
    ) -> Result<Tenant, StoreError> {
        let mut p = Placeholders::default();
        let update = format!(
            "SET {} = {} REMOVE {}",
            p.name("updated_at"),
            p.value("now", s(crate::timestamp::encode(now)?)),
            p.name("marketing_suspension"),
        );
        let condition = format!(
            "attribute_exists({}) AND attribute_exists({})",
            p.name(keys::PK),
            p.name("marketing_suspension"),
        );
        // A tenant not held fails the condition and is read as it is.
        self.update_if(
            "resume_marketing",
            keys::tenant_pk(tenant)?,
            keys::TENANT_SK,
            &update,
            Some(&condition),
            &p,
        )
        .await?;
        self.get_tenant(tenant)
            .await?
            .ok_or(StoreError::NotFound { what: "tenant" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_record_from_before_settings_reads_with_defaults() {
        let old = serde_json::json!({
            "id": "acme",
            "name": "Acme",
            "created_at": "2026-01-01T10:00:00.000000Z",
        });
        let t: Tenant = serde_json::from_value(old).unwrap();
        assert_eq!(t.updated_at, datetime!(2026-01-01 10:00 UTC));
        assert_eq!(t.settings, TenantSettings::default());
        assert_eq!(t.suspension, None);
        assert_eq!(t.marketing_suspension, None);
    }

    #[test]
    fn round_trips() {
        let mut t = Tenant::new(
            TenantId::from("acme"),
            "Acme",
            datetime!(2026-01-01 10:00 UTC),
        );
        t.settings.retention_months = 24;
        t.suspension = Some(Suspension {
            reason: "review".into(),
            at: datetime!(2026-01-02 10:00 UTC),
            by: "operator".into(),
        });
        t.marketing_suspension = Some(MarketingSuspension {
            reason: MARKETING_SUSPENDED_TEMPLATE_QUALITY_RED.into(),
            since: datetime!(2026-01-03 10:00 UTC),
        });
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(serde_json::from_value::<Tenant>(json).unwrap(), t);
    }
}
