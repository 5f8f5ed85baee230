//! `?month=YYYY-MM&limit=&cursor=`: the query of a listing kept by calendar month (the audit
//! log, abuse reports), this month (UTC) by default.

use crate::conversations::PageQuery;
use crate::problem::Problem;
use axum::extract::Query;
use serde::Deserialize;
use switchboard_store::{StoreError, month_of};
use time::OffsetDateTime;

pub(crate) struct MonthPage {
    pub(crate) month: String,
    pub(crate) page: PageQuery,
}

#[derive(Deserialize)]
struct MonthQuery {
    month: Option<String>,
}

impl MonthPage {
    pub(crate) fn from_uri(uri: &axum::http::Uri, now: OffsetDateTime) -> Result<Self, Problem> {
        let page = PageQuery::from_uri(uri, &["month"])?;
        let Query(m) = Query::<MonthQuery>::try_from_uri(uri)?;
        Ok(Self {
            month: m.month.unwrap_or_else(|| month_of(now)),
            page,
        })
    }
}

/// The store checks the month as part of the key it reads: a month that is not `YYYY-MM` is
/// the query's fault, named as its field.
pub(crate) fn month_problem(error: StoreError) -> Problem {
    match error {
        StoreError::InvalidKey { .. } => Problem::query_field("month", "must be YYYY-MM"),
        e => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_month_defaults_to_the_current_one_in_utc() {
        let uri: axum::http::Uri = "/v1/audit?limit=5".parse().expect("a URI");
        let query = MonthPage::from_uri(&uri, datetime!(2026-12-31 23:30 -02:00)).expect("valid");
        assert_eq!(query.month, "2027-01");
        assert_eq!(query.page.limit, 5);
        let uri: axum::http::Uri = "/v1/audit?month=2026-03".parse().expect("a URI");
        let query = MonthPage::from_uri(&uri, datetime!(2026-12-01 00:00 UTC)).expect("valid");
        assert_eq!(query.month, "2026-03");
    }

    #[test]
    fn a_month_the_store_refuses_is_the_querys_field() {
        let problem = month_problem(StoreError::InvalidKey {
            kind: "month",
            reason: "not YYYY-MM",
        });
        assert_eq!(problem.status, 400);
        assert_eq!(problem.errors[0].field, "month");
    }
}
