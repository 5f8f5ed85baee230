//! Writes audit entries for the routes, and `GET /v1/audit` for admins. Writing is best
//! effort: a failed entry is logged (without personal data) and never fails the request.

use crate::ApiState;
use crate::conversations::PageBody;
use crate::month_page::{MonthPage, month_problem};
use crate::principal::Principal;
use crate::problem::Problem;
use axum::Json;
use axum::extract::State;
use std::sync::Arc;
use switchboard_domain::{Clock, TenantId};
use switchboard_store::{AuditEntry, Store};

#[derive(Clone)]
pub struct AuditLog {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl AuditLog {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    pub fn set_clock(&mut self, clock: Arc<dyn Clock>) {
        self.clock = clock;
    }

    /// What `principal` did, from where they are.
    pub async fn record(&self, principal: &Principal, action: &str, target: Option<String>) {
        self.write(
            &principal.tenant,
            principal.actor_ref(),
            Some(principal.source_ip.clone()),
            action,
            target,
            None,
        )
        .await;
    }

    pub async fn record_detail(
        &self,
        principal: &Principal,
        action: &str,
        target: Option<String>,
        detail: String,
    ) {
        self.write(
            &principal.tenant,
            principal.actor_ref(),
            Some(principal.source_ip.clone()),
            action,
            target,
            Some(detail),
        )
        .await;
    }

    pub async fn record_for(
        &self,
        tenant: &TenantId,
        actor: &str,
        action: &str,
        target: Option<String>,
    ) {
        self.write(tenant, actor.to_owned(), None, action, target, None)
            .await;
    }

    pub async fn record_from(
        &self,
        tenant: &TenantId,
        actor: &str,
        source_ip: &str,
        action: &str,
        target: Option<String>,
    ) {
        self.write(
            tenant,
            actor.to_owned(),
            Some(source_ip.to_owned()),
            action,
            target,
            None,
        )
        .await;
    }

    /// What the platform operator did to `tenant`; it goes in that tenant's log, so its people
    /// can see it.
    pub async fn record_operator(
        &self,
        tenant: &TenantId,
        source_ip: &str,
        action: &str,
        target: Option<String>,
        detail: Option<String>,
    ) {
        self.write(
            tenant,
            crate::operator::OPERATOR_ACTOR.to_owned(),
            Some(source_ip.to_owned()),
            action,
            target,
            detail,
        )
        .await;
    }

    async fn write(
        &self,
        tenant: &TenantId,
        actor: String,
        source_ip: Option<String>,
        action: &str,
        target: Option<String>,
        detail: Option<String>,
    ) {
        let entry = AuditEntry {
            id: ulid::Ulid::new().to_string().to_lowercase(),
            at: self.clock.now(),
            actor,
            action: action.to_owned(),
            source_ip,
            target,
            detail,
        };
        if let Err(error) = self.store.append_audit(tenant, &entry).await {
            tracing::error!(%error, action, "could not write an audit entry");
        }
    }
}

/// `GET /v1/audit?month=YYYY-MM&limit=&cursor=`: one month, newest first (this month by
/// default).
pub(crate) async fn list(
    State(state): State<Arc<ApiState>>,
    principal: Principal,
    uri: axum::http::Uri,
) -> Result<Json<PageBody<AuditEntry>>, Problem> {
    let now = state.clock.now();
    let query = MonthPage::from_uri(&uri, now)?;
    let page = state
        .store
        .list_audit(
            &principal.tenant,
            &query.month,
            query.page.limit,
            query.page.cursor.as_deref(),
            state.cursors.at(now),
        )
        .await
        .map_err(month_problem)?;
    Ok(Json(PageBody {
        data: page.items,
        next_cursor: page.next_cursor,
    }))
}
