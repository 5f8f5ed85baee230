//! Meta's template webhooks applied to the tenant's templates: review status, category and
//! quality. Each report is ordered by the entry's `time` (Meta's moment of the change), so a
//! redelivered or late report never undoes a newer one; without a time, the moment we got it.
//! A template rated RED suspends the tenant's marketing pending review.

use crate::InboundState;
use crate::apply::ApplyError;
use switchboard_domain::TenantId;
use switchboard_meta::webhook::{TemplateUpdate, WebhookEvent};
use switchboard_store::{MARKETING_SUSPENDED_TEMPLATE_QUALITY_RED, TemplateChange};
use time::OffsetDateTime;

/// The change a template update makes; `None` for a field that is not a template update or a
/// value that cannot be read (it stays kept as a tenant event).
pub(crate) fn change_of(field: &str, value: &str) -> Option<(TemplateUpdate, TemplateChange)> {
    let update = match TemplateUpdate::parse(field, value) {
        Ok(Some(update)) => update,
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!(field, error = %e, "template update not read; kept as an event only");
            return None;
        }
    };
    let template_id = Some(update.template().id.clone());
    let change = match &update {
        TemplateUpdate::Status { event, reason, .. } => TemplateChange {
            template_id,
            status: Some(TemplateUpdate::status_after(event).to_owned()),
            reason: reason.clone(),
            ..TemplateChange::default()
        },
        TemplateUpdate::Category { new_category, .. } => TemplateChange {
            template_id,
            category: Some(new_category.clone()),
            ..TemplateChange::default()
        },
        TemplateUpdate::Quality {
            new_quality_score, ..
        } => TemplateChange {
            template_id,
            quality: Some(new_quality_score.clone()),
            ..TemplateChange::default()
        },
    };
    Some((update, change))
}

pub(crate) async fn apply_update(
    state: &InboundState,
    tenant: &TenantId,
    event: &WebhookEvent,
    value: &str,
    now: OffsetDateTime,
) -> Result<(), ApplyError> {
    let Some((update, change)) = change_of(&event.field, value) else {
        return Ok(());
    };
    let at = event
        .entry_time
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
        .unwrap_or(now);
    let template = update.template();
    let applied = state
        .store
        .apply_template_change(
            tenant,
            &event.waba_id,
            &template.name,
            &template.language,
            &change,
            at,
        )
        .await?;
    // A template we do not hold (made outside Switchboard, or deleted here) changes nothing.
    tracing::info!(template_id = %template.id, field = %event.field, applied, "template update");
    // A template rated RED holds the tenant's marketing for review (P20), once: a suspension
    // already in place keeps its first reason, and a late or redelivered report is not applied.
    if applied && is_red(&update) {
        let suspended = state
            .store
            .suspend_marketing(tenant, MARKETING_SUSPENDED_TEMPLATE_QUALITY_RED, at)
            .await?;
        if suspended {
            tracing::warn!(template_id = %template.id, "marketing suspended pending review: a template was rated RED");
        }
    }
    Ok(())
}

/// Whether the update rates the template RED, Meta's lowest quality.
fn is_red(update: &TemplateUpdate) -> bool {
    matches!(
        update,
        TemplateUpdate::Quality { new_quality_score, .. }
            if new_quality_score.eq_ignore_ascii_case("RED")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_red_rating_suspends_marketing() {
        let quality = |score: &str| {
            change_of(
                "message_template_quality_update",
                &format!(
                    r#"{{"message_template_id":7,"message_template_name":"a","message_template_language":"en","new_quality_score":"{score}"}}"#
                ),
            )
            .map(|(update, _)| is_red(&update))
        };
        assert_eq!(quality("RED"), Some(true));
        assert_eq!(quality("red"), Some(true));
        assert_eq!(quality("YELLOW"), Some(false));
        assert_eq!(quality("GREEN"), Some(false));
        let (status, _) = change_of(
            "message_template_status_update",
            r#"{"event":"REJECTED","message_template_id":7,"message_template_name":"a","message_template_language":"en","reason":"INVALID_FORMAT"}"#,
        )
        .unwrap();
        assert!(!is_red(&status));
    }

    #[test]
    fn each_update_changes_only_its_own_part() {
        let (_, change) = change_of(
            "message_template_status_update",
            r#"{"event":"REJECTED","message_template_id":7,"message_template_name":"a","message_template_language":"en","reason":"INVALID_FORMAT"}"#,
        )
        .unwrap();
        assert_eq!(
            change,
            TemplateChange {
                template_id: Some("7".into()),
                status: Some("REJECTED".into()),
                reason: Some("INVALID_FORMAT".into()),
                ..TemplateChange::default()
            }
        );
        let (_, change) = change_of(
            "message_template_status_update",
            r#"{"event":"REINSTATED","message_template_id":7,"message_template_name":"a","message_template_language":"en","reason":"NONE"}"#,
        )
        .unwrap();
        assert_eq!(change.status.as_deref(), Some("APPROVED"));
        let (_, change) = change_of(
            "template_category_update",
            r#"{"message_template_id":7,"message_template_name":"a","message_template_language":"en","previous_category":"UTILITY","new_category":"MARKETING"}"#,
        )
        .unwrap();
        assert_eq!(
            (change.category.as_deref(), change.status.as_deref()),
            (Some("MARKETING"), None)
        );
        let (_, change) = change_of(
            "message_template_quality_update",
            r#"{"message_template_id":7,"message_template_name":"a","message_template_language":"en","new_quality_score":"RED"}"#,
        )
        .unwrap();
        assert_eq!(change.quality.as_deref(), Some("RED"));
        assert!(change_of("account_update", "{}").is_none());
        assert!(change_of("message_template_status_update", "{}").is_none());
    }
}
