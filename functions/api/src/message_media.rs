//! `GET /v1/messages/{id}/media`: a short-lived link to our copy of a message's media.
//!
//! The link is a presigned S3 GET (at most five minutes), so the file never passes through the
//! API. Only a file that passed its checks (`stored`) is handed out; a quarantined one is never
//! shown. Every link handed out is audit-logged, since it opens a customer's file.

use crate::ApiState;
use crate::principal::Principal;
use crate::problem::Problem;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header::LOCATION};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use switchboard_domain::MessageId;
use switchboard_store::MediaState;
use time::OffsetDateTime;

/// How long a link stays valid: long enough to open, short enough not to be shared.
pub const LINK_LIFETIME: Duration = Duration::from_secs(300);

#[derive(Debug, Serialize)]
pub struct MediaLink {
    pub url: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub mime_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// `?redirect=true` answers 302 to the link instead of describing it.
fn wants_redirect(pairs: &[(String, String)]) -> Result<bool, Problem> {
    let mut redirect = None;
    for (name, value) in pairs {
        match name.as_str() {
            "redirect" if redirect.is_some() => {
                return Err(Problem::query_field(name, "is given more than once"));
            }
            "redirect" => {
                redirect = Some(match value.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(Problem::query_field(name, "must be true or false")),
                })
            }
            other => {
                return Err(Problem::query_field(
                    other,
                    "is not a parameter of this route",
                ));
            }
        }
    }
    Ok(redirect.unwrap_or(false))
}

pub(crate) async fn get_link(
    State(state): State<Arc<ApiState>>,
    caller: Principal,
    Path(id): Path<String>,
    uri: axum::http::Uri,
) -> Result<Response, Problem> {
    let Query(query) = Query::<Vec<(String, String)>>::try_from_uri(&uri)?;
    let redirect = wants_redirect(&query)?;
    let message = state
        .store
        .get_message(&caller.tenant, &MessageId::new(id.clone()))
        .await?
        .ok_or_else(|| Problem::not_found("message"))?;
    let Some(media) = message.media else {
        return Err(Problem::not_found("media")
            .detail("the message has no media, or its file has not been fetched from Meta yet"));
    };
    let key = match (media.state, media.key.as_deref()) {
        (MediaState::Stored, Some(key)) => key.to_owned(),
        (MediaState::Quarantined, _) => {
            return Err(Problem::media_withheld(
                "the file failed its checks and is kept in quarantine, never shown",
                media.reason.as_deref(),
            ));
        }
        (MediaState::Unavailable, _) | (MediaState::Stored, None) => {
            return Err(Problem::media_withheld(
                "Meta no longer had the file when it was fetched",
                media.reason.as_deref(),
            ));
        }
    };
    let now = state.clock.now();
    let url = state
        .media
        .presigned_get(
            &key,
            LINK_LIFETIME,
            media.filename.as_deref(),
            Some(&media.mime_type),
        )
        .await
        .map_err(|e| Problem::unavailable(&e))?;
    state
        .audit
        .record(&caller, "media.link_issued", Some(id))
        .await;
    if redirect {
        return Ok((StatusCode::FOUND, [(LOCATION, url)]).into_response());
    }
    Ok(Json(MediaLink {
        url,
        expires_at: now + LINK_LIFETIME,
        mime_type: media.mime_type,
        size: media.size,
        filename: media.filename,
        sha256: media.sha256,
    })
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn redirect_is_opt_in_and_nothing_else_is_accepted() {
        assert!(!wants_redirect(&[]).expect("none"));
        assert!(wants_redirect(&pairs(&[("redirect", "true")])).expect("true"));
        assert!(!wants_redirect(&pairs(&[("redirect", "false")])).expect("false"));
        assert!(wants_redirect(&pairs(&[("redirect", "yes")])).is_err());
        assert!(wants_redirect(&pairs(&[("redirect", "true"), ("redirect", "true")])).is_err());
        assert!(wants_redirect(&pairs(&[("download", "1")])).is_err());
    }
}
