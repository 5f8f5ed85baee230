//! Reports of suspected abuse of the platform, sent by anyone (a customer who received a
//! message, a business, a member of the public) for the platform operator to review. Global
//! items: a report names a business number, not a tenant, and no tenant reads them. Listed per
//! month, newest first, through `gsi1`; kept [`ABUSE_REPORT_RETENTION`] by TTL.

use crate::cursor::Cursors;
use crate::error::StoreError;
use crate::expression::Placeholders;
use crate::item::{from_item, keyed, n, s};
use crate::keys;
use crate::listing::IndexListing;
use crate::page::Page;
use crate::store::{Conditional, Store};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// How long a report is kept: long enough to see a pattern across months of reports on one
/// business, and no longer, since it may hold the reporter's address.
pub const ABUSE_REPORT_RETENTION: Duration = Duration::days(366);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbuseReport {
    /// Derived from the report's content and its sender, so a retried report is one report.
    pub id: String,
    /// `spam`, `prohibited_content`, `harassment`, `fraud`, `impersonation`, `other`.
    pub category: String,
    /// The WhatsApp number the reported messages came from, digits only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_phone_number: Option<String>,
    pub description: String,
    /// Where the operator may answer, when the reporter gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter_email: Option<String>,
    #[serde(with = "crate::timestamp")]
    pub received_at: OffsetDateTime,
}

/// What recording a report came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportRecorded {
    New,
    /// The same report was recorded before: the one kept then.
    AlreadyReceived(Box<AbuseReport>),
}

impl Store {
    /// Records the report once: a second one with its id finds the first.
    pub async fn record_abuse_report(
        &self,
        report: &AbuseReport,
    ) -> Result<ReportRecorded, StoreError> {
        let mut item = keyed(
            report,
            "abuse_report",
            keys::abuse_report_pk(&report.id)?,
            keys::ABUSE_REPORT_SK.to_owned(),
        )?;
        item.insert(
            keys::GSI1PK.to_owned(),
            s(keys::abuse_reports_gsi1pk(&keys::month_of(
                report.received_at,
            ))?),
        );
        item.insert(
            keys::GSI1SK.to_owned(),
            s(format!(
                "{}#{}",
                crate::timestamp::encode(report.received_at)?,
                report.id
            )),
        );
        item.insert(
            keys::EXPIRES_AT.to_owned(),
            n(crate::timestamp::epoch_seconds_ceil(
                report.received_at + ABUSE_REPORT_RETENTION,
            )),
        );
        let mut p = Placeholders::default();
        let condition = format!("attribute_not_exists({})", p.name(keys::PK));
        match self
            .put_if("record_abuse_report", item, &condition, &p)
            .await?
        {
            Conditional::Written => Ok(ReportRecorded::New),
            Conditional::ConditionFailed(Some(old)) => {
                Ok(ReportRecorded::AlreadyReceived(Box::new(from_item(old)?)))
            }
            Conditional::ConditionFailed(None) => Err(StoreError::Contended {
                operation: "record_abuse_report",
            }),
        }
    }

    /// One month's reports (`YYYY-MM`), newest first.
    pub async fn list_abuse_reports(
        &self,
        month: &str,
        limit: i32,
        cursor: Option<&str>,
        cursors: Cursors<'_>,
    ) -> Result<Page<AbuseReport>, StoreError> {
        self.list_index_of(
            IndexListing {
                operation: "list_abuse_reports",
                gsi1pk: keys::abuse_reports_gsi1pk(month)?,
                pk_prefix: "ABUSE#".to_owned(),
                sk: keys::ABUSE_REPORT_SK,
                newest_first: true,
            },
            limit,
            cursor,
            cursors,
        )
        .await
    }
}
