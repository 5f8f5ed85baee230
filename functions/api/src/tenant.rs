//! `GET /v1/tenant` and `PATCH /v1/tenant`: the tenant's name and settings, and whether the
//! platform operator has suspended it (so its people see why sending is refused).
//!
//! A PATCH body has the shape of the GET answer, and every part is optional: `{"name": …,
//! "settings": {"marketing": {"quiet_hours": {"start": "22:00"}}}}` changes the start of quiet
//! hours and nothing else. A weekday in `business_hours` is replaced whole; `alert_email: null`
//! removes the address. Unknown fields, wrong types and broken rules are answered together, one
//! field error each, by path (`settings.marketing.quiet_hours.start`).

use crate::ApiState;
use crate::accounts::{check_email, check_name};
use crate::principal::Principal;
use crate::problem::{FieldError, Problem};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde::Serialize;
use serde_json::{Map, Value};
use std::ops::RangeInclusive;
use std::sync::Arc;
use switchboard_domain::tenant_settings::{
    BusinessHours, CAP_PER_RECIPIENT, CAP_WINDOW_DAYS, MAX_INTERVALS_PER_DAY, MarketingSettings,
    OpenInterval, QuietHours, RETENTION_MONTHS, TimeOfDay, Timezone,
};
use switchboard_domain::{TenantId, TenantSettings};
use switchboard_store::{MarketingSuspension, StoreError, Suspension, Tenant};
use time::OffsetDateTime;

/// Another admin's change in between is merged by reading again; this many times in a row is
/// not a race any more but a hot record.
const ATTEMPTS: usize = 3;

/// The tenant as its people see it.
#[derive(Debug, Serialize)]
pub(crate) struct TenantView {
    id: TenantId,
    name: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    settings: TenantSettings,
    suspension: Option<SuspensionView>,
    /// Set while the tenant's marketing is held for review: marketing templates are refused
    /// (`marketing_suspended`), everything else still goes.
    marketing_suspension: Option<MarketingSuspensionView>,
}

/// Why the tenant may not send, and since when; who decided stays in the audit log.
#[derive(Debug, Serialize)]
pub(crate) struct SuspensionView {
    reason: String,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
}

impl From<&Suspension> for SuspensionView {
    fn from(s: &Suspension) -> Self {
        Self {
            reason: s.reason.clone(),
            at: s.at,
        }
    }
}

/// Why the tenant's marketing is held (`prohibited_content`, `template_quality_red`) and since
/// when.
#[derive(Debug, Serialize)]
pub(crate) struct MarketingSuspensionView {
    reason: String,
    #[serde(with = "time::serde::rfc3339")]
    since: OffsetDateTime,
}

impl From<&MarketingSuspension> for MarketingSuspensionView {
    fn from(s: &MarketingSuspension) -> Self {
        Self {
            reason: s.reason.clone(),
            since: s.since,
        }
    }
}

impl From<&Tenant> for TenantView {
    fn from(t: &Tenant) -> Self {
        Self {
            id: t.id.clone(),
            name: t.name.clone(),
            created_at: t.created_at,
            settings: t.settings.clone(),
            suspension: t.suspension.as_ref().map(SuspensionView::from),
            marketing_suspension: t
                .marketing_suspension
                .as_ref()
                .map(MarketingSuspensionView::from),
        }
    }
}

async fn read(state: &ApiState, tenant: &TenantId) -> Result<Tenant, Problem> {
    state
        .store
        .get_tenant(tenant)
        .await?
        .ok_or_else(|| Problem::not_found("tenant"))
}

pub(crate) async fn get_one(
    State(state): State<Arc<ApiState>>,
    principal: Principal,
) -> Result<Json<TenantView>, Problem> {
    let tenant = read(&state, &principal.tenant).await?;
    Ok(Json(TenantView::from(&tenant)))
}

pub(crate) async fn update(
    State(state): State<Arc<ApiState>>,
    principal: Principal,
    body: Bytes,
) -> Result<Json<TenantView>, Problem> {
    let patch = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(patch)) => patch,
        Ok(_) => return Err(Problem::field("body", "must be a JSON object")),
        Err(e) => return Err(Problem::malformed(e.to_string())),
    };
    for _ in 0..ATTEMPTS {
        let current = read(&state, &principal.tenant).await?;
        let (name, settings) = apply(&patch, &current)?;
        let mut changed = Vec::new();
        if name != current.name {
            changed.push("name".to_owned());
        }
        changed.extend(
            current
                .settings
                .changed_fields(&settings)
                .into_iter()
                .map(|f| format!("settings.{f}")),
        );
        if changed.is_empty() {
            return Ok(Json(TenantView::from(&current)));
        }
        match state
            .store
            .update_tenant_settings(&current, &name, &settings, state.clock.now())
            .await
        {
            Ok(updated) => {
                state
                    .audit
                    .record_detail(
                        &principal,
                        "tenant.settings_changed",
                        Some(format!("tenant:{}", updated.id)),
                        format!("fields={}", changed.join(",")),
                    )
                    .await;
                return Ok(Json(TenantView::from(&updated)));
            }
            // Someone changed the tenant since it was read: apply the patch to what it is now.
            Err(StoreError::Contended { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Problem::conflict(
        "the tenant kept changing while this change was applied; retry",
    ))
}

/// Collects one field error per problem found while applying a patch.
#[derive(Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    fn object<'a>(&mut self, field: &str, value: &'a Value) -> Option<&'a Map<String, Value>> {
        let object = value.as_object();
        if object.is_none() {
            self.push(field, "must be an object");
        }
        object
    }

    fn string<'a>(&mut self, field: &str, value: &'a Value) -> Option<&'a str> {
        let text = value.as_str();
        if text.is_none() {
            self.push(field, "must be a string");
        }
        text
    }

    fn boolean(&mut self, field: &str, value: &Value) -> Option<bool> {
        let flag = value.as_bool();
        if flag.is_none() {
            self.push(field, "must be true or false");
        }
        flag
    }

    fn number(&mut self, field: &str, value: &Value, range: RangeInclusive<u16>) -> Option<u16> {
        let n = value
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .filter(|n| range.contains(n));
        if n.is_none() {
            self.push(
                field,
                format!(
                    "must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            );
        }
        n
    }

    fn time(&mut self, field: &str, value: &Value) -> Option<TimeOfDay> {
        let text = self.string(field, value)?;
        TimeOfDay::parse(text)
            .map_err(|message| self.push(field, message))
            .ok()
    }

    fn unknown(&mut self, field: &str) {
        self.push(field, "is not a field that can be changed");
    }
}

/// The tenant's name and settings with `patch` applied, or every field error at once.
fn apply(
    patch: &Map<String, Value>,
    current: &Tenant,
) -> Result<(String, TenantSettings), Problem> {
    let mut errors = Errors::default();
    let mut name = current.name.clone();
    let mut settings = current.settings.clone();
    for (key, value) in patch {
        match key.as_str() {
            "name" => {
                if let Some(text) = errors.string("name", value) {
                    match check_name("name", text) {
                        Ok(checked) => name = checked,
                        Err(problem) => errors.0.extend(problem.errors),
                    }
                }
            }
            "settings" => apply_settings(value, &mut settings, &mut errors),
            other => errors.unknown(other),
        }
    }
    errors
        .0
        .extend(settings.validate().into_iter().map(|e| FieldError {
            field: format!("settings.{}", e.field),
            message: e.message,
        }));
    if errors.0.is_empty() {
        Ok((name, settings))
    } else {
        Err(Problem::validation(errors.0))
    }
}

fn apply_settings(value: &Value, settings: &mut TenantSettings, errors: &mut Errors) {
    let Some(patch) = errors.object("settings", value) else {
        return;
    };
    for (key, value) in patch {
        let field = format!("settings.{key}");
        match key.as_str() {
            "timezone" => {
                if let Some(text) = errors.string(&field, value) {
                    match Timezone::parse(text) {
                        Ok(zone) => settings.timezone = zone,
                        Err(message) => errors.push(&field, message),
                    }
                }
            }
            "business_hours" => apply_hours(value, &mut settings.business_hours, errors),
            "retention_months" => {
                if let Some(n) = errors.number(&field, value, RETENTION_MONTHS) {
                    settings.retention_months = n;
                }
            }
            "marketing" => apply_marketing(value, &mut settings.marketing, errors),
            "ai_enabled" => {
                if let Some(flag) = errors.boolean(&field, value) {
                    settings.ai_enabled = flag;
                }
            }
            "alert_email" => match value {
                Value::Null => settings.alert_email = None,
                Value::String(text) => match check_email(text) {
                    Ok(email) => settings.alert_email = Some(email),
                    Err(_) => errors.push(&field, "must be an e-mail address, or null for none"),
                },
                _ => errors.push(&field, "must be an e-mail address, or null for none"),
            },
            _ => errors.unknown(&field),
        }
    }
}

fn apply_hours(value: &Value, hours: &mut BusinessHours, errors: &mut Errors) {
    let Some(patch) = errors.object("settings.business_hours", value) else {
        return;
    };
    for (day, value) in patch {
        let field = format!("settings.business_hours.{day}");
        if hours.day(day).is_none() {
            errors.push(
                &field,
                "must be a weekday in English, lowercase (monday…sunday)",
            );
            continue;
        }
        let Some(list) = value.as_array() else {
            errors.push(&field, "must be a list of {open, close} intervals");
            continue;
        };
        if list.len() > MAX_INTERVALS_PER_DAY {
            errors.push(
                &field,
                format!("at most {MAX_INTERVALS_PER_DAY} intervals a day"),
            );
            continue;
        }
        let before = errors.0.len();
        let mut intervals = Vec::with_capacity(list.len());
        for (i, value) in list.iter().enumerate() {
            let at = format!("{field}[{i}]");
            let Some(interval) = errors.object(&at, value) else {
                continue;
            };
            let (mut open, mut close) = (None, None);
            for (key, value) in interval {
                let at = format!("{at}.{key}");
                match key.as_str() {
                    "open" => open = errors.time(&at, value),
                    "close" => close = errors.time(&at, value),
                    _ => errors.unknown(&at),
                }
            }
            for key in ["open", "close"] {
                if !interval.contains_key(key) {
                    errors.push(&format!("{at}.{key}"), "is required");
                }
            }
            if let (Some(open), Some(close)) = (open, close) {
                intervals.push(OpenInterval { open, close });
            }
        }
        // A day is replaced whole or not at all: half of someone's hours are wrong hours.
        if errors.0.len() == before
            && let Some(slot) = hours.day_mut(day)
        {
            *slot = intervals;
        }
    }
}

fn apply_marketing(value: &Value, marketing: &mut MarketingSettings, errors: &mut Errors) {
    let Some(patch) = errors.object("settings.marketing", value) else {
        return;
    };
    for (key, value) in patch {
        let field = format!("settings.marketing.{key}");
        match key.as_str() {
            "cap_per_recipient" => {
                if let Some(n) = errors.number(&field, value, CAP_PER_RECIPIENT) {
                    marketing.cap_per_recipient = n;
                }
            }
            "cap_window_days" => {
                if let Some(n) = errors.number(&field, value, CAP_WINDOW_DAYS) {
                    marketing.cap_window_days = n;
                }
            }
            "quiet_hours" => apply_quiet_hours(value, &mut marketing.quiet_hours, errors),
            _ => errors.unknown(&field),
        }
    }
}

fn apply_quiet_hours(value: &Value, quiet: &mut QuietHours, errors: &mut Errors) {
    let Some(patch) = errors.object("settings.marketing.quiet_hours", value) else {
        return;
    };
    for (key, value) in patch {
        let field = format!("settings.marketing.quiet_hours.{key}");
        match key.as_str() {
            "start" => {
                if let Some(t) = errors.time(&field, value) {
                    quiet.start = t;
                }
            }
            "end" => {
                if let Some(t) = errors.time(&field, value) {
                    quiet.end = t;
                }
            }
            _ => errors.unknown(&field),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    fn tenant() -> Tenant {
        Tenant::new(
            TenantId::from("acme"),
            "Acme",
            datetime!(2026-11-01 10:00 UTC),
        )
    }

    fn fields(patch: Value) -> Vec<String> {
        let Value::Object(patch) = patch else {
            panic!("an object")
        };
        match apply(&patch, &tenant()) {
            Ok(_) => Vec::new(),
            Err(problem) => {
                assert_eq!(problem.status, 422);
                problem.errors.into_iter().map(|e| e.field).collect()
            }
        }
    }

    #[test]
    fn a_partial_patch_changes_only_what_it_names() {
        let Value::Object(patch) = json!({
            "settings": {
                "timezone": "Europe/Berlin",
                "marketing": {"quiet_hours": {"start": "22:00"}},
                "business_hours": {"monday": [{"open": "09:00", "close": "17:30"}]},
                "alert_email": "Ops@Acme.example",
            }
        }) else {
            unreachable!()
        };
        let (name, settings) = apply(&patch, &tenant()).unwrap();
        assert_eq!(name, "Acme");
        assert_eq!(settings.timezone.as_str(), "Europe/Berlin");
        assert_eq!(settings.marketing.quiet_hours.start.to_string(), "22:00");
        assert_eq!(settings.marketing.quiet_hours.end.to_string(), "08:00");
        assert_eq!(settings.business_hours.monday.len(), 1);
        assert!(settings.business_hours.tuesday.is_empty());
        assert_eq!(settings.alert_email.as_deref(), Some("ops@acme.example"));
        assert_eq!(settings.retention_months, 12);
    }

    #[test]
    fn every_invalid_field_is_named() {
        let got = fields(json!({
            "name": "",
            "colour": "red",
            "settings": {
                "timezone": "Mars/Olympus",
                "retention_months": 121,
                "ai_enabled": "yes",
                "alert_email": "not-an-address",
                "marketing": {
                    "cap_per_recipient": -1,
                    "cap_window_days": 0,
                    "quiet_hours": {"start": "25:00", "end": 8},
                    "extra": 1,
                },
                "business_hours": {
                    "funday": [],
                    "monday": [{"open": "17:00", "close": "09:00"}],
                    "tuesday": [{"open": "9:00"}],
                },
            },
        }));
        let mut expected = vec![
            "name",
            "colour",
            "settings.timezone",
            "settings.retention_months",
            "settings.ai_enabled",
            "settings.alert_email",
            "settings.marketing.cap_per_recipient",
            "settings.marketing.cap_window_days",
            "settings.marketing.quiet_hours.start",
            "settings.marketing.quiet_hours.end",
            "settings.marketing.extra",
            "settings.business_hours.funday",
            "settings.business_hours.monday",
            "settings.business_hours.tuesday[0].open",
            "settings.business_hours.tuesday[0].close",
        ];
        expected.sort_unstable();
        let mut got: Vec<&str> = got.iter().map(String::as_str).collect();
        got.sort_unstable();
        assert_eq!(got, expected);
    }

    #[test]
    fn quiet_hours_cannot_be_empty_and_alert_email_can_be_cleared() {
        assert_eq!(
            fields(json!({"settings": {"marketing": {"quiet_hours": {"start": "08:00"}}}})),
            ["settings.marketing.quiet_hours.end"]
        );
        let mut current = tenant();
        current.settings.alert_email = Some("ops@acme.example".into());
        let Value::Object(patch) = json!({"settings": {"alert_email": null}}) else {
            unreachable!()
        };
        assert_eq!(apply(&patch, &current).unwrap().1.alert_email, None);
    }
}
