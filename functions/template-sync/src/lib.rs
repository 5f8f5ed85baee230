//! The scheduled template sync (EventBridge, hourly): for every connected WABA, lists its
//! templates at Meta and repairs what the store missed, since webhooks can be lost: a status,
//! category or quality Meta changed, a submission whose answer never arrived, a template
//! deleted at Meta.
//!
//! What Meta lists is applied as a report made a little before the listing started
//! ([`REPORT_LEAD`]): a webhook about the same template that is newer wins over the sync,
//! and the sync wins over anything older. Templates made outside Switchboard are not taken
//! in: only a template Switchboard submitted is ever sent.
//!
//! One WABA's failure does not stop the others; the run fails (and the function's error
//! alarm fires) when any WABA could not be synced for a reason other than its token being
//! revoked, which is the business's to fix and is logged.

mod init;

pub use init::{InitError, init};

use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use switchboard_domain::{Clock, Secret, TenantId};
use switchboard_meta::graph::{GraphClient, GraphError, OnboardingFailure, TemplateInfo};
use switchboard_platform::business_token::{self, BusinessTokenError};
use switchboard_platform::token_vault::TokenVault;
use switchboard_store::{
    CursorCodec, DELETED_STATUS, MARKETING_SUSPENDED_TEMPLATE_QUALITY_RED, SUBMITTING_STATUS,
    Store, StoreError, TemplateChange, TemplateRecord, TemplateSubmitted,
};
use time::{Duration, OffsetDateTime};
use tracing::Instrument;

/// Meta's webhook times are whole seconds and its clock is not ours: the sync's report is
/// dated this far before the listing began, so a webhook sent while it ran still wins.
pub const REPORT_LEAD: Duration = Duration::seconds(2);
/// A template Meta does not list yet may just have been created: it is left alone this long.
pub const CREATION_GRACE: Duration = Duration::minutes(10);
/// A `SUBMITTING` placeholder older than this was left by a request that died (longer than
/// the API's idempotency claim): when Meta does not have the template, the name is freed.
pub const ABANDONED_AFTER: Duration = Duration::minutes(2);
/// Pages of Meta's listing per WABA: 100 templates each, more than Meta lets a WABA hold.
const MAX_META_PAGES: usize = 100;
const STORE_PAGE: i32 = 100;

pub struct TemplateSyncState {
    pub store: Store,
    pub graph: GraphClient,
    pub vault: TokenVault,
    pub clock: Arc<dyn Clock>,
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub wabas: usize,
    /// WABAs whose token Meta refused (revoked, or no longer reaching the WABA).
    pub wabas_unreachable: usize,
    pub wabas_failed: usize,
    /// Templates of ours compared with Meta's.
    pub checked: usize,
    /// Templates whose status, category or quality was repaired.
    pub repaired: usize,
    /// Submissions whose answer was lost, completed from Meta's listing.
    pub completed: usize,
    /// Templates Meta no longer lists, marked `DELETED`.
    pub marked_deleted: usize,
    /// Submissions that never reached Meta, removed to free the name.
    pub abandoned_removed: usize,
}

impl SyncReport {
    fn add(&mut self, other: &SyncReport) {
        self.checked += other.checked;
        self.repaired += other.repaired;
        self.completed += other.completed;
        self.marked_deleted += other.marked_deleted;
        self.abandoned_removed += other.abandoned_removed;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Token(#[from] BusinessTokenError),
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error("{failed} of {wabas} WABAs could not be synced")]
    Incomplete { failed: usize, wabas: usize },
}

/// One scheduled invocation; the event's content does not matter.
pub async fn handle(state: &TemplateSyncState, _event: Value) -> Result<SyncReport, SyncError> {
    let report = Box::pin(sync_all(state)).await?;
    tracing::info!(
        wabas = report.wabas,
        unreachable = report.wabas_unreachable,
        failed = report.wabas_failed,
        checked = report.checked,
        repaired = report.repaired,
        completed = report.completed,
        marked_deleted = report.marked_deleted,
        abandoned_removed = report.abandoned_removed,
        "template sync done"
    );
    if report.wabas_failed > 0 {
        return Err(SyncError::Incomplete {
            failed: report.wabas_failed,
            wabas: report.wabas,
        });
    }
    Ok(report)
}

/// Cursors that live only inside this run: signed with a key made for it.
fn run_cursors() -> Result<CursorCodec, SyncError> {
    let key: [u8; 32] = rand::random();
    CursorCodec::new(&Secret::new(hex::encode(key)), Duration::hours(1))
        .map_err(|_| SyncError::Store(StoreError::InvalidCursor))
}

/// Every connected WABA, one after the other.
pub async fn sync_all(state: &TemplateSyncState) -> Result<SyncReport, SyncError> {
    let cursors = run_cursors()?;
    let mut report = SyncReport::default();
    let mut cursor: Option<String> = None;
    loop {
        let page = state
            .store
            .list_waba_routes(STORE_PAGE, cursor.as_deref(), cursors.at(state.clock.now()))
            .await?;
        for route in &page.items {
            report.wabas += 1;
            let span = tracing::info_span!(
                "template_sync",
                tenant = %route.tenant_id,
                waba_id = %route.waba_id
            );
            // Boxed: the SDK futures nest deep enough to overflow the compiler's layout limit.
            let synced = Box::pin(sync_waba(state, &cursors, &route.tenant_id, &route.waba_id))
                .instrument(span.clone())
                .await;
            let _entered = span.enter();
            match synced {
                Ok(done) => report.add(&done),
                Err(SyncError::Graph(e))
                    if matches!(
                        OnboardingFailure::of(&e),
                        Some(OnboardingFailure::InvalidToken | OnboardingFailure::NoAccess)
                    ) =>
                {
                    report.wabas_unreachable += 1;
                    tracing::warn!(code = e.code(), "Meta refused the WABA's token; not synced");
                }
                Err(e) => {
                    report.wabas_failed += 1;
                    tracing::error!(error = %e, "WABA not synced");
                }
            }
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(report)
}

/// The tenant's templates of one WABA against Meta's.
pub async fn sync_waba(
    state: &TemplateSyncState,
    cursors: &CursorCodec,
    tenant: &TenantId,
    waba_id: &str,
) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    let Some(token) =
        business_token::business_token(&state.store, &state.vault, tenant, waba_id).await?
    else {
        // Routed but its token is gone: the WABA is being disconnected.
        return Ok(report);
    };
    let started = state.clock.now();
    let at = whole_second(started) - REPORT_LEAD;
    let listed = state
        .graph
        .list_all_templates(&token, waba_id, None, MAX_META_PAGES)
        .await?;
    let at_meta: HashMap<(&str, &str), &TemplateInfo> = listed
        .iter()
        .map(|t| ((t.name.as_str(), t.language.as_str()), t))
        .collect();

    for ours in stored_templates(state, cursors, tenant, waba_id).await? {
        report.checked += 1;
        match at_meta.get(&(ours.name.as_str(), ours.language.as_str())) {
            Some(theirs) => repair(state, tenant, &ours, theirs, at, &mut report).await?,
            None => gone_at_meta(state, tenant, &ours, started, at, &mut report).await?,
        }
    }
    Ok(report)
}

fn whole_second(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}

async fn stored_templates(
    state: &TemplateSyncState,
    cursors: &CursorCodec,
    tenant: &TenantId,
    waba_id: &str,
) -> Result<Vec<TemplateRecord>, SyncError> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = state
            .store
            .list_templates(
                tenant,
                STORE_PAGE,
                cursor.as_deref(),
                cursors.at(state.clock.now()),
            )
            .await?;
        out.extend(page.items.into_iter().filter(|t| t.waba_id == waba_id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(out),
        }
    }
}

/// What differs between our copy and Meta's listing, as a report Meta could have sent.
pub fn drift(ours: &TemplateRecord, theirs: &TemplateInfo) -> Option<TemplateChange> {
    let status =
        (!theirs.status.is_empty() && theirs.status != ours.status).then(|| theirs.status.clone());
    let category = (!theirs.category.is_empty() && theirs.category != ours.category)
        .then(|| theirs.category.clone());
    // Meta lists `UNKNOWN` for templates not sent enough to be scored: no news for ours.
    let quality = theirs
        .quality
        .as_ref()
        .filter(|q| ours.quality.as_ref() != Some(*q))
        .filter(|q| ours.quality.is_some() || q.as_str() != "UNKNOWN")
        .cloned();
    if status.is_none() && category.is_none() && quality.is_none() {
        return None;
    }
    Some(TemplateChange {
        template_id: Some(theirs.id.clone()),
        reason: status.as_ref().and(theirs.rejected_reason.clone()),
        status,
        category,
        quality,
    })
}

async fn repair(
    state: &TemplateSyncState,
    tenant: &TenantId,
    ours: &TemplateRecord,
    theirs: &TemplateInfo,
    at: OffsetDateTime,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    if ours.template_id.is_none() {
        // Our submission reached Meta; its answer did not reach us.
        state
            .store
            .record_template_submitted(
                tenant,
                &ours.waba_id,
                &ours.name,
                &ours.language,
                &TemplateSubmitted {
                    template_id: theirs.id.clone(),
                    status: theirs.status.clone(),
                    category: theirs.category.clone(),
                },
            )
            .await?;
        report.completed += 1;
        tracing::info!(template_id = %theirs.id, "submission completed from Meta's listing");
        return Ok(());
    }
    if ours.template_id.as_deref() != Some(theirs.id.as_str()) {
        // Meta holds another template under this name and language (made elsewhere after
        // ours was deleted): ours is not it.
        if ours.status != DELETED_STATUS {
            mark_deleted(state, tenant, ours, at, report).await?;
        }
        return Ok(());
    }
    let Some(change) = drift(ours, theirs) else {
        return Ok(());
    };
    if state
        .store
        .apply_template_change(
            tenant,
            &ours.waba_id,
            &ours.name,
            &ours.language,
            &change,
            at,
        )
        .await?
    {
        report.repaired += 1;
        tracing::info!(template_id = %theirs.id, "template repaired from Meta's listing");
        // A RED rating no webhook reported holds marketing for review as the webhook would.
        if change.quality.as_deref() == Some("RED")
            && state
                .store
                .suspend_marketing(tenant, MARKETING_SUSPENDED_TEMPLATE_QUALITY_RED, at)
                .await?
        {
            tracing::warn!(template_id = %theirs.id, "marketing suspended pending review: a template was rated RED");
        }
    }
    Ok(())
}

async fn gone_at_meta(
    state: &TemplateSyncState,
    tenant: &TenantId,
    ours: &TemplateRecord,
    started: OffsetDateTime,
    at: OffsetDateTime,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    if ours.status == SUBMITTING_STATUS && ours.template_id.is_none() {
        if started - ours.created_at > ABANDONED_AFTER
            && state.store.delete_template_if(tenant, ours).await?
        {
            report.abandoned_removed += 1;
            tracing::info!("abandoned submission removed");
        }
        return Ok(());
    }
    if ours.status == DELETED_STATUS || started - ours.created_at < CREATION_GRACE {
        return Ok(());
    }
    mark_deleted(state, tenant, ours, at, report).await
}

async fn mark_deleted(
    state: &TemplateSyncState,
    tenant: &TenantId,
    ours: &TemplateRecord,
    at: OffsetDateTime,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let change = TemplateChange {
        template_id: ours.template_id.clone(),
        status: Some(DELETED_STATUS.to_owned()),
        ..TemplateChange::default()
    };
    if state
        .store
        .apply_template_change(
            tenant,
            &ours.waba_id,
            &ours.name,
            &ours.language,
            &change,
            at,
        )
        .await?
    {
        report.marked_deleted += 1;
        tracing::info!(template_id = ?ours.template_id, "template gone at Meta marked deleted");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(status: &str, category: &str, quality: Option<&str>) -> TemplateRecord {
        TemplateRecord {
            waba_id: "1".into(),
            name: "order_update".into(),
            language: "en_US".into(),
            template_id: Some("9".into()),
            category: category.into(),
            status: status.into(),
            reason: None,
            quality: quality.map(str::to_owned),
            components_json: "[]".into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
            status_at: None,
            category_at: None,
            quality_at: None,
            created_by: None,
        }
    }

    fn theirs(status: &str, category: &str, quality: Option<&str>) -> TemplateInfo {
        TemplateInfo {
            id: "9".into(),
            name: "order_update".into(),
            language: "en_US".into(),
            status: status.into(),
            category: category.into(),
            quality: quality.map(str::to_owned),
            rejected_reason: (status == "REJECTED").then(|| "INVALID_FORMAT".to_owned()),
            components: None,
        }
    }

    #[test]
    fn drift_names_only_what_differs() {
        assert_eq!(
            drift(
                &ours("APPROVED", "UTILITY", Some("GREEN")),
                &theirs("APPROVED", "UTILITY", Some("GREEN"))
            ),
            None
        );
        assert_eq!(
            drift(
                &ours("APPROVED", "UTILITY", None),
                &theirs("PAUSED", "UTILITY", None)
            ),
            Some(TemplateChange {
                template_id: Some("9".into()),
                status: Some("PAUSED".into()),
                ..TemplateChange::default()
            })
        );
        let change = drift(
            &ours("PENDING", "UTILITY", None),
            &theirs("REJECTED", "MARKETING", Some("UNKNOWN")),
        )
        .unwrap();
        assert_eq!(change.reason.as_deref(), Some("INVALID_FORMAT"));
        assert_eq!(change.category.as_deref(), Some("MARKETING"));
        assert_eq!(change.quality, None, "UNKNOWN is no news");
        let change = drift(
            &ours("APPROVED", "UTILITY", Some("GREEN")),
            &theirs("APPROVED", "UTILITY", Some("UNKNOWN")),
        )
        .unwrap();
        assert_eq!(change.quality.as_deref(), Some("UNKNOWN"));
        // Meta listing no quality is not a change.
        assert_eq!(
            drift(
                &ours("APPROVED", "UTILITY", Some("GREEN")),
                &theirs("APPROVED", "UTILITY", None)
            ),
            None
        );
    }

    #[test]
    fn reports_are_dated_before_the_listing_on_a_whole_second() {
        let started = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
            + Duration::milliseconds(700);
        let at = whole_second(started) - REPORT_LEAD;
        assert_eq!(at.unix_timestamp(), 1_800_000_000 - 2);
        assert_eq!(at.nanosecond(), 0);
    }
}
