//! Message templates of a WABA on the Graph API:
//! - `POST /{waba-id}/message_templates` submits one for review (Meta answers its id, status and
//!   category);
//! - `GET /{waba-id}/message_templates` lists them, a page at a time (`paging.cursors.after`
//!   while `paging.next` says there is more);
//! - `DELETE /{waba-id}/message_templates?name=…[&hsm_id=…]` deletes every language of a name,
//!   or only the one template with that id.
//!
//! Request and answer bodies are Meta's own shapes; components are passed through as given,
//! Meta validates them. Template texts are the business's, never logged here.

use super::client::GraphClient;
use super::error::GraphError;
use super::onboarding::Method;
use reqwest::Url;
use serde::{Deserialize, Serialize};
use switchboard_domain::Secret;

/// What [`GraphClient::list_templates`] asks Meta for.
pub const TEMPLATE_FIELDS: &str =
    "id,name,language,status,category,quality_score,rejected_reason,components";
/// Meta's largest page for this edge.
pub const TEMPLATE_PAGE_LIMIT: u32 = 100;

/// A template submitted for review, as Meta takes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewTemplate {
    pub name: String,
    /// `en_US`, `pt_BR`, …
    pub language: String,
    /// `MARKETING`, `UTILITY` or `AUTHENTICATION`.
    pub category: String,
    /// Meta's `components` array (`HEADER`, `BODY`, `FOOTER`, `BUTTONS`), as the business wrote
    /// it.
    pub components: serde_json::Value,
}

/// Meta's answer to a creation: the template is in review (or, for some, approved at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateCreated {
    pub id: String,
    pub status: String,
    pub category: String,
}

/// One template as Meta lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateInfo {
    pub id: String,
    pub name: String,
    pub language: String,
    pub status: String,
    pub category: String,
    /// `quality_score.score`: `GREEN`, `YELLOW`, `RED` or `UNKNOWN`.
    pub quality: Option<String>,
    /// `rejected_reason`, without Meta's `NONE`.
    pub rejected_reason: Option<String>,
    pub components: Option<serde_json::Value>,
}

/// One page of [`GraphClient::list_templates`].
#[derive(Debug, Clone, PartialEq)]
pub struct TemplatePage {
    pub templates: Vec<TemplateInfo>,
    /// Pass as `after` for the next page; `None` on the last.
    pub after: Option<String>,
}

/// The template failures a caller tells apart, from Meta's code and subcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateFailure {
    /// Meta holds a template of this name and language already, or one still being deleted
    /// (code 100, subcode 2388024).
    AlreadyExists,
    /// Meta refused what was submitted or named: a component, parameter, name or id it does
    /// not accept (code 100 with any other subcode, 131009, 192).
    Invalid,
}

impl TemplateFailure {
    pub fn of(error: &GraphError) -> Option<Self> {
        let code = error.code()?;
        Some(match (code, error.subcode()) {
            (100, Some(2388024)) => TemplateFailure::AlreadyExists,
            // A WABA the token cannot reach: `OnboardingFailure::NoAccess`.
            (100, Some(33)) => return None,
            (100 | 131009 | 192, _) => TemplateFailure::Invalid,
            _ => return None,
        })
    }
}

#[derive(Deserialize)]
struct WireCreated {
    #[serde(default)]
    id: String,
    status: Option<String>,
    category: Option<String>,
}

#[derive(Deserialize)]
struct WireList {
    #[serde(default)]
    data: Vec<WireTemplate>,
    paging: Option<WirePaging>,
}

#[derive(Deserialize)]
struct WireTemplate {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    category: String,
    quality_score: Option<WireQuality>,
    rejected_reason: Option<String>,
    components: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct WireQuality {
    score: Option<String>,
}

#[derive(Deserialize)]
struct WirePaging {
    cursors: Option<WireCursors>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct WireCursors {
    after: Option<String>,
}

#[derive(Deserialize)]
struct WireSuccess {
    #[serde(default)]
    success: bool,
}

fn decode(reason: &str) -> GraphError {
    GraphError::Decode {
        http_status: 200,
        reason: reason.to_owned(),
    }
}

pub(super) fn parse_created(body: &[u8]) -> Result<TemplateCreated, GraphError> {
    let wire: WireCreated = serde_json::from_slice(body)
        .map_err(|_| decode("the template answer is not JSON of the documented shape"))?;
    if wire.id.is_empty() {
        return Err(decode("missing id"));
    }
    Ok(TemplateCreated {
        id: wire.id,
        // Meta documents both; a template it answered for is in review unless it says else.
        status: wire.status.unwrap_or_else(|| "PENDING".to_owned()),
        category: wire.category.unwrap_or_default(),
    })
}

pub(super) fn parse_page(body: &[u8]) -> Result<TemplatePage, GraphError> {
    let wire: WireList = serde_json::from_slice(body)
        .map_err(|_| decode("the template list is not JSON of the documented shape"))?;
    let templates = wire
        .data
        .into_iter()
        .filter(|t| !t.id.is_empty() && !t.name.is_empty() && !t.language.is_empty())
        .map(|t| TemplateInfo {
            id: t.id,
            name: t.name,
            language: t.language,
            status: t.status,
            category: t.category,
            quality: t.quality_score.and_then(|q| q.score),
            rejected_reason: t
                .rejected_reason
                .filter(|r| !r.is_empty() && !r.eq_ignore_ascii_case("NONE")),
            components: t.components,
        })
        .collect();
    // Meta leaves `next` out on the last page, though it still names an `after` cursor.
    let after = wire
        .paging
        .filter(|p| p.next.is_some())
        .and_then(|p| p.cursors)
        .and_then(|c| c.after)
        .filter(|a| !a.is_empty());
    Ok(TemplatePage { templates, after })
}

impl GraphClient {
    /// Submits a template for review: `POST /{version}/{waba_id}/message_templates`.
    pub async fn create_template(
        &self,
        token: &Secret,
        waba_id: &str,
        template: &NewTemplate,
    ) -> Result<TemplateCreated, GraphError> {
        let url = self.node_url(waba_id, "message_templates")?;
        let body = serde_json::to_value(template)
            .map_err(|_| GraphError::InvalidRequest("the template cannot be encoded"))?;
        let answer = self
            .call(
                Method::Post,
                url,
                token,
                Some((&body, token)),
                "create template",
            )
            .await?;
        parse_created(&answer)
    }

    /// One page of the WABA's templates, optionally only those named `name`:
    /// `GET /{version}/{waba_id}/message_templates?fields=`[`TEMPLATE_FIELDS`]`&limit=&after=`.
    pub async fn list_templates(
        &self,
        token: &Secret,
        waba_id: &str,
        name: Option<&str>,
        after: Option<&str>,
    ) -> Result<TemplatePage, GraphError> {
        let mut url = Url::parse(&self.node_url(waba_id, "message_templates")?)
            .map_err(|_| GraphError::InvalidRequest("the Graph API base URL is not a URL"))?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("fields", TEMPLATE_FIELDS)
                .append_pair("limit", &TEMPLATE_PAGE_LIMIT.to_string());
            if let Some(name) = name {
                query.append_pair("name", name);
            }
            if let Some(after) = after {
                query.append_pair("after", after);
            }
        }
        let answer = self
            .call(Method::Get, url, token, None, "list templates")
            .await?;
        parse_page(&answer)
    }

    /// Every template of the WABA, following Meta's pages up to `max_pages`; `Decode` when
    /// there are more (a listing cut short must not read as templates gone).
    pub async fn list_all_templates(
        &self,
        token: &Secret,
        waba_id: &str,
        name: Option<&str>,
        max_pages: usize,
    ) -> Result<Vec<TemplateInfo>, GraphError> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..max_pages {
            let page = self
                .list_templates(token, waba_id, name, after.as_deref())
                .await?;
            all.extend(page.templates);
            match page.after {
                None => return Ok(all),
                Some(next) if Some(&next) == after.as_ref() => {
                    return Err(decode("the template list repeats its cursor"));
                }
                Some(next) => after = Some(next),
            }
        }
        Err(decode("the template list has more pages than allowed"))
    }

    /// Deletes the templates named `name` in every language, or with `template_id` only that
    /// one: `DELETE /{version}/{waba_id}/message_templates?name=…[&hsm_id=…]`.
    pub async fn delete_template(
        &self,
        token: &Secret,
        waba_id: &str,
        name: &str,
        template_id: Option<&str>,
    ) -> Result<(), GraphError> {
        if name.is_empty() {
            return Err(GraphError::InvalidRequest("the template name is empty"));
        }
        let mut url = Url::parse(&self.node_url(waba_id, "message_templates")?)
            .map_err(|_| GraphError::InvalidRequest("the Graph API base URL is not a URL"))?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("name", name);
            if let Some(id) = template_id {
                query.append_pair("hsm_id", id);
            }
        }
        let answer = self
            .call(Method::Delete, url, token, None, "delete template")
            .await?;
        match serde_json::from_slice::<WireSuccess>(&answer) {
            Ok(WireSuccess { success: true }) => Ok(()),
            _ => Err(decode("the answer is not {\"success\": true}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn api(code: i64, subcode: Option<i64>) -> GraphError {
        GraphError::Api {
            http_status: 400,
            code,
            subcode,
            message: "(#100) Invalid parameter".to_owned(),
            details: None,
            is_transient: None,
            retry_after: None,
            fbtrace_id: None,
        }
    }

    #[test]
    fn the_request_is_metas_create_shape() {
        // Meta's "text header, text body, text footer, and 2 quick reply buttons" example.
        let template = NewTemplate {
            name: "seasonal_promotion_text_only".into(),
            language: "en".into(),
            category: "MARKETING".into(),
            components: json!([
                {"type": "HEADER", "format": "TEXT", "text": "Our {{1}} is on!",
                 "example": {"header_text": ["Summer Sale"]}},
                {"type": "BODY", "text": "Shop now through {{1}} and use code {{2}} to get {{3}} off of all merchandise.",
                 "example": {"body_text": [["the end of August", "25OFF", "25%"]]}},
                {"type": "FOOTER", "text": "Use the buttons below to manage your marketing subscriptions"},
                {"type": "BUTTONS", "buttons": [
                    {"type": "QUICK_REPLY", "text": "Unsubcribe from Promos"},
                    {"type": "QUICK_REPLY", "text": "Unsubscribe from All"}]}
            ]),
        };
        let wire = serde_json::to_value(&template).unwrap();
        assert_eq!(
            wire.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["category", "components", "language", "name"]
        );
        assert_eq!(wire["name"], "seasonal_promotion_text_only");
        assert_eq!(wire["components"][1]["example"]["body_text"][0][1], "25OFF");
    }

    #[test]
    fn reads_metas_create_answer() {
        let created =
            parse_created(br#"{"id":"1689556908129832","status":"PENDING","category":"UTILITY"}"#)
                .unwrap();
        assert_eq!(
            created,
            TemplateCreated {
                id: "1689556908129832".into(),
                status: "PENDING".into(),
                category: "UTILITY".into(),
            }
        );
        assert!(parse_created(br#"{"status":"PENDING"}"#).is_err());
        assert!(parse_created(b"<html>").is_err());
    }

    #[test]
    fn reads_metas_list_answer_and_its_paging() {
        // Meta's "Get template by name" example, with the fields we ask for.
        let body = json!({
            "data": [
                {"category": "MARKETING", "id": "1192339204654487", "language": "en_US",
                 "name": "hello_world", "previous_category": "ACCOUNT_UPDATE", "status": "APPROVED",
                 "quality_score": {"score": "GREEN", "date": 1_700_000_000},
                 "rejected_reason": "NONE",
                 "components": [{"format": "TEXT", "text": "Hello World", "type": "HEADER"}]},
                {"category": "MARKETING", "id": "920070352646140", "language": "en_US",
                 "name": "2023_april_promo", "status": "REJECTED", "rejected_reason": "INVALID_FORMAT"}
            ],
            "paging": {"cursors": {"after": "MjQZD", "before": "MAZDZD"}}
        });
        let page = parse_page(body.to_string().as_bytes()).unwrap();
        assert_eq!(page.templates.len(), 2);
        assert_eq!(page.templates[0].quality.as_deref(), Some("GREEN"));
        assert_eq!(page.templates[0].rejected_reason, None);
        assert_eq!(
            page.templates[1].rejected_reason.as_deref(),
            Some("INVALID_FORMAT")
        );
        assert_eq!(page.after, None, "no `next`: the last page");

        let mut more = body.clone();
        more["paging"]["next"] =
            json!("https://graph.facebook.com/v23.0/1/message_templates?after=MjQZD");
        assert_eq!(
            parse_page(more.to_string().as_bytes())
                .unwrap()
                .after
                .as_deref(),
            Some("MjQZD")
        );
        assert!(parse_page(br#"{"data": {}}"#).is_err());
        assert!(parse_page(br#"{}"#).unwrap().templates.is_empty());
    }

    #[test]
    fn classifies_metas_template_errors() {
        assert_eq!(
            TemplateFailure::of(&api(100, Some(2388024))),
            Some(TemplateFailure::AlreadyExists)
        );
        for subcode in [None, Some(2388040)] {
            assert_eq!(
                TemplateFailure::of(&api(100, subcode)),
                Some(TemplateFailure::Invalid)
            );
        }
        assert_eq!(TemplateFailure::of(&api(190, None)), None);
        assert_eq!(TemplateFailure::of(&api(100, Some(33))), None);
        assert_eq!(TemplateFailure::of(&GraphError::InvalidRequest("x")), None);
    }

    #[test]
    fn urls_carry_the_query_encoded_and_refuse_other_nodes() {
        let client = GraphClient::new(reqwest::Client::new(), "http://127.0.0.1:1", "v23.0");
        let mut url = Url::parse(
            &client
                .node_url("102290129340398", "message_templates")
                .unwrap(),
        )
        .unwrap();
        url.query_pairs_mut()
            .append_pair("name", "a&b")
            .append_pair("hsm_id", "1");
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:1/v23.0/102290129340398/message_templates?name=a%26b&hsm_id=1"
        );
        assert!(client.node_url("1/../2", "message_templates").is_err());
    }
}
