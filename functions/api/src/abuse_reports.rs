//! Reports of suspected abuse: `POST /v1/abuse-reports` takes one from anyone, without
//! credentials (a customer who received a message, a business, a member of the public), and
//! `GET /operator/abuse-reports` lists them for the platform operator, who reviews them and
//! may suspend the tenant pending review (`POST /operator/tenants/{id}/suspend`). A report
//! never suspends anyone by itself: anyone may send one, a competitor too.

use crate::accounts::{check_email, parse};
use crate::conversations::PageBody;
use crate::month_page::{MonthPage, month_problem};
use crate::problem::{FieldError, Problem};
use crate::tokens::digest;
use crate::{ApiState, SourceIp};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use switchboard_platform::metrics::Metrics;
use switchboard_store::{AbuseReport, ReportRecorded, ThrottleKind};
use time::{Duration, OffsetDateTime};

pub const CATEGORIES: [&str; 6] = [
    "spam",
    "prohibited_content",
    "harassment",
    "fraud",
    "impersonation",
    "other",
];
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
/// Reports one source address may send in [`REPORT_WINDOW`]; more are answered 429.
pub const REPORTS_PER_SOURCE: i64 = 10;
pub const REPORT_WINDOW: Duration = Duration::hours(1);
/// The `service` metric counting reports received, for the operator's alarm.
pub const ABUSE_REPORTS_RECEIVED: &str = "AbuseReportsReceived";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewReport {
    category: String,
    description: String,
    #[serde(default)]
    business_phone_number: Option<String>,
    #[serde(default)]
    reporter_email: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ReportReceived {
    id: String,
    status: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    received_at: OffsetDateTime,
}

/// `POST /v1/abuse-reports`.
pub(crate) async fn create(
    State(state): State<Arc<ApiState>>,
    SourceIp(source_ip): SourceIp,
    body: Bytes,
) -> Result<Response, Problem> {
    let request: NewReport = parse(&body)?;
    // At the precision the store keeps, so that a retry's answer is the first one's.
    let now = state.clock.now();
    let now = now
        .replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap_or(now);
    let source = digest(&source_ip);
    let report = check(request, &source, now)?;

    let sent = state
        .store
        .failure_count(ThrottleKind::AbuseReportSource, &source, REPORT_WINDOW, now)
        .await?;
    if let Some(sent) = sent.filter(|c| c.failures >= REPORTS_PER_SOURCE) {
        let wait = (sent.window_start + REPORT_WINDOW - now).max(Duration::SECOND);
        return Err(Problem::too_many_requests(
            u64::try_from(wait.whole_seconds()).unwrap_or(1),
        ));
    }
    let kept = match state.store.record_abuse_report(&report).await? {
        ReportRecorded::New => {
            state
                .store
                .record_failure(ThrottleKind::AbuseReportSource, &source, REPORT_WINDOW, now)
                .await?;
            let mut metrics = Metrics::new(crate::METRICS_SERVICE, Arc::clone(&state.metrics));
            metrics.count(ABUSE_REPORTS_RECEIVED, 1);
            metrics.flush();
            tracing::info!(report = %report.id, category = %report.category, "abuse report received");
            report
        }
        // The same report sent again (a retry): the one kept the first time.
        ReportRecorded::AlreadyReceived(first) => *first,
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(ReportReceived {
            id: kept.id,
            status: "received",
            received_at: kept.received_at,
        }),
    )
        .into_response())
}

/// Every field checked at once; the report's id follows from what it says and who sent it.
fn check(r: NewReport, source: &str, now: OffsetDateTime) -> Result<AbuseReport, Problem> {
    let mut errors = Vec::new();
    let mut error = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.to_owned(),
            message,
        })
    };
    let category = r.category.trim().to_owned();
    if !CATEGORIES.contains(&category.as_str()) {
        error(
            "category",
            format!("must be one of {}", CATEGORIES.join(", ")),
        );
    }
    let description = r.description.trim().to_owned();
    let chars = description.chars().count();
    if chars == 0 || chars > MAX_DESCRIPTION_CHARS {
        error(
            "description",
            format!("must be 1 to {MAX_DESCRIPTION_CHARS} characters"),
        );
    }
    let number = r.business_phone_number.as_deref().map(phone_digits);
    if let Some(None) = number {
        error(
            "business_phone_number",
            "must be a phone number in international format (8 to 15 digits, optional +)".into(),
        );
    }
    let email = r.reporter_email.as_deref().map(check_email);
    if let Some(Err(_)) = email {
        error("reporter_email", "must be an e-mail address".into());
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let business_phone_number = number.flatten();
    let reporter_email = email.and_then(Result::ok);
    let mut hash = Sha256::new();
    for part in [
        source,
        &category,
        business_phone_number.as_deref().unwrap_or(""),
        &description,
        reporter_email.as_deref().unwrap_or(""),
    ] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    Ok(AbuseReport {
        id: format!("abr_{}", hex::encode(&hash.finalize()[..13])),
        category,
        business_phone_number,
        description,
        reporter_email,
        received_at: now,
    })
}

fn phone_digits(number: &str) -> Option<String> {
    let n = number.trim();
    let digits = n.strip_prefix('+').unwrap_or(n);
    let plausible = (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    plausible.then(|| digits.to_owned())
}

#[derive(Debug, Serialize)]
pub(crate) struct ReportView {
    id: String,
    category: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    business_phone_number: Option<String>,
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reporter_email: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    received_at: OffsetDateTime,
}

/// `GET /operator/abuse-reports?month=YYYY-MM&limit=&cursor=`: one month's reports, newest
/// first (this month by default).
pub(crate) async fn list(
    State(state): State<Arc<ApiState>>,
    _operator: crate::operator::OperatorCall,
    uri: axum::http::Uri,
) -> Result<Json<PageBody<ReportView>>, Problem> {
    let now = state.clock.now();
    let query = MonthPage::from_uri(&uri, now)?;
    let page = state
        .store
        .list_abuse_reports(
            &query.month,
            query.page.limit,
            query.page.cursor.as_deref(),
            state.cursors.at(now),
        )
        .await
        .map_err(month_problem)?;
    Ok(Json(PageBody {
        data: page
            .items
            .into_iter()
            .map(|r| ReportView {
                id: r.id,
                category: r.category,
                business_phone_number: r.business_phone_number,
                description: r.description,
                reporter_email: r.reporter_email,
                received_at: r.received_at,
            })
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn report(description: &str) -> NewReport {
        NewReport {
            category: "spam".into(),
            description: description.into(),
            business_phone_number: Some("+1 555".into()),
            reporter_email: Some("not an address".into()),
        }
    }

    #[test]
    fn every_invalid_field_is_named() {
        let mut r = report("");
        r.category = "rude".into();
        let problem = check(r, "src", datetime!(2026-12-01 00:00 UTC)).unwrap_err();
        let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "category",
                "description",
                "business_phone_number",
                "reporter_email"
            ]
        );
    }

    #[test]
    fn the_id_follows_from_the_report_and_its_sender() {
        let at = datetime!(2026-12-01 00:00 UTC);
        let valid = || NewReport {
            category: "spam".into(),
            description: "Daily offers I never asked for".into(),
            business_phone_number: Some("+15550001111".into()),
            reporter_email: None,
        };
        let a = check(valid(), "src-a", at).unwrap();
        assert_eq!(a.id, check(valid(), "src-a", at).unwrap().id);
        assert_ne!(a.id, check(valid(), "src-b", at).unwrap().id);
        assert_eq!(a.business_phone_number.as_deref(), Some("15550001111"));
    }
}
