//! Conversation and message reads, scoped to the caller's tenant.

use crate::principal::Principal;
use crate::problem::Problem;
use crate::{ApiState, MAX_ID_BYTES};
use axum::Json;
use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{FromRequestParts, Path, Query, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::sync::Arc;
use switchboard_domain::ConversationId;
use switchboard_store::{ConversationRecord, MAX_PAGE_SIZE, MessageRecord};

pub(crate) const DEFAULT_LIMIT: i32 = 50;
/// The store returns at most this many items a call, so the API accepts no more.
pub(crate) const MAX_LIMIT: i32 = MAX_PAGE_SIZE;
const _: () = assert!(DEFAULT_LIMIT >= 1 && DEFAULT_LIMIT <= MAX_LIMIT);

/// `?limit=&cursor=`, checked: a typo'd, repeated or unknown parameter, or a limit outside
/// `1..=MAX_LIMIT`, is a 400 naming it.
pub(crate) struct PageQuery {
    pub(crate) limit: i32,
    pub(crate) cursor: Option<String>,
}

impl PageQuery {
    /// Reads `limit` and `cursor`, allowing the route's own parameters `extra` besides.
    pub(crate) fn from_uri(uri: &axum::http::Uri, extra: &[&str]) -> Result<Self, Problem> {
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(uri)?;
        let mut seen = std::collections::HashSet::new();
        let mut limit = None;
        let mut cursor = None;
        for (name, value) in pairs {
            if !seen.insert(name.clone()) {
                return Err(Problem::query_field(&name, "is given more than once"));
            }
            match name.as_str() {
                "limit" => limit = Some(value),
                "cursor" => cursor = Some(value),
                other if extra.contains(&other) => {}
                other => {
                    return Err(Problem::query_field(
                        other,
                        "is not a parameter of this route",
                    ));
                }
            }
        }
        let limit = match limit.as_deref() {
            None => DEFAULT_LIMIT,
            Some(text) => text
                .trim()
                .parse::<i32>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    Problem::query_field(
                        "limit",
                        format!("must be an integer from 1 to {MAX_LIMIT}"),
                    )
                })?,
        };
        Ok(Self { limit, cursor })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PageQuery {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        Self::from_uri(&parts.uri, &[])
    }
}

/// Every path parameter of this API is one of our ids: 1 to [`MAX_ID_BYTES`] of ASCII
/// letters, digits, `_`, `-` and `.`. Anything else cannot name an item, so it is a 400 before
/// any handler (or the store's key rules) sees it.
pub(crate) async fn valid_path_ids(
    params: Result<RawPathParams, RawPathParamsRejection>,
    request: Request,
    next: Next,
) -> Response {
    let params = match params {
        Ok(params) => params,
        // No parameters to check.
        Err(RawPathParamsRejection::MissingPathParams(_)) => return next.run(request).await,
        Err(rejection) => return Problem::invalid_id(rejection.body_text()).into_response(),
    };
    for (name, value) in &params {
        // Template names are Meta's, and Meta allows them longer than our ids.
        let max = if name == "name" {
            crate::templates::MAX_NAME_LEN
        } else {
            MAX_ID_BYTES
        };
        if !is_plausible_id_of(value, max) {
            return Problem::invalid_id(format!(
                "`{name}` must be 1 to {max} characters of letters, digits, '_', '-' or '.'"
            ))
            .into_response();
        }
    }
    next.run(request).await
}

fn is_plausible_id_of(id: &str, max: usize) -> bool {
    (1..=max).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

#[derive(Serialize)]
pub(crate) struct PageBody<T> {
    pub(crate) data: Vec<T>,
    pub(crate) next_cursor: Option<String>,
}

pub(crate) async fn list(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
    q: PageQuery,
) -> Result<Json<PageBody<ConversationRecord>>, Problem> {
    let page = state
        .store
        .list_conversations(
            &caller.tenant,
            q.limit,
            q.cursor.as_deref(),
            state.cursors.at(state.clock.now()),
        )
        .await?;
    Ok(Json(PageBody {
        data: page.items,
        next_cursor: page.next_cursor,
    }))
}

pub(crate) async fn get_one(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
    Path(id): Path<String>,
) -> Result<Json<ConversationRecord>, Problem> {
    state
        .store
        .get_conversation(&caller.tenant, &ConversationId::new(id))
        .await?
        .map(Json)
        .ok_or_else(|| Problem::not_found("conversation"))
}

pub(crate) async fn messages(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
    Path(id): Path<String>,
    q: PageQuery,
) -> Result<Json<PageBody<MessageRecord>>, Problem> {
    let conversation = ConversationId::new(id);
    // A conversation of another tenant is "not found", never "forbidden": no probing.
    if state
        .store
        .get_conversation(&caller.tenant, &conversation)
        .await?
        .is_none()
    {
        return Err(Problem::not_found("conversation"));
    }
    let page = state
        .store
        .list_messages(
            &caller.tenant,
            &conversation,
            q.limit,
            q.cursor.as_deref(),
            state.cursors.at(state.clock.now()),
        )
        .await?;
    Ok(Json(PageBody {
        data: page.items.into_iter().map(crate::messages::shown).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_short_and_plain() {
        for ok in [
            "conv_0a1b2c3d4e5f60718293",
            "msg_01jabcdefghjkmnpqrstvwxyz0",
            "x",
            &"a".repeat(MAX_ID_BYTES),
        ] {
            assert!(is_plausible_id_of(ok, MAX_ID_BYTES), "{ok}");
        }
        for bad in [
            "",
            &"a".repeat(MAX_ID_BYTES + 1),
            "conv#x",
            "a b",
            "a/b",
            "ü",
            "a\0b",
        ] {
            assert!(!is_plausible_id_of(bad, MAX_ID_BYTES), "{bad:?}");
        }
    }

    #[test]
    fn the_api_limit_is_the_store_page_size() {
        assert_eq!(MAX_LIMIT, 100);
    }
}
