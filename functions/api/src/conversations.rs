//! Conversation and message reads, scoped to the caller's tenant.

use crate::ApiState;
use crate::auth::Caller;
use crate::problem::Problem;
use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use switchboard_domain::ConversationId;
use switchboard_store::{ConversationRecord, MessageRecord};

pub(crate) const DEFAULT_LIMIT: i32 = 50;
pub(crate) const MAX_LIMIT: i32 = 200;

#[derive(Deserialize)]
pub(crate) struct PageQuery {
    limit: Option<String>,
    cursor: Option<String>,
}

impl PageQuery {
    fn limit(&self) -> Result<i32, Problem> {
        match self.limit.as_deref() {
            None => Ok(DEFAULT_LIMIT),
            Some(raw) => raw
                .parse::<i32>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    Problem::field("limit", format!("must be an integer from 1 to {MAX_LIMIT}"))
                }),
        }
    }
}

#[derive(Serialize)]
pub(crate) struct PageBody<T> {
    data: Vec<T>,
    next_cursor: Option<String>,
}

pub(crate) async fn list(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    Query(q): Query<PageQuery>,
) -> Result<Json<PageBody<ConversationRecord>>, Problem> {
    let page = state
        .store
        .list_conversations(&caller.tenant, q.limit()?, q.cursor.as_deref())
        .await?;
    Ok(Json(PageBody {
        data: page.items,
        next_cursor: page.next_cursor,
    }))
}

pub(crate) async fn get_one(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
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
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Json<PageBody<MessageRecord>>, Problem> {
    let conversation = ConversationId::new(id);
    let limit = q.limit()?;
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
        .list_messages(&caller.tenant, &conversation, limit, q.cursor.as_deref())
        .await?;
    Ok(Json(PageBody {
        data: page.items,
        next_cursor: page.next_cursor,
    }))
}
