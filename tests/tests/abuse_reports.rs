//! Anyone may report suspected abuse, without credentials; the platform operator alone reads
//! the reports. A retried report is one report, every invalid field is named, one address may
//! send only so many an hour, and each report is counted for the operator's alarm.

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_e2e::*;

async fn report(t: &TestStack, body: &Value) -> (u16, Value) {
    let r = t
        .http
        .post(format!("{}/v1/abuse-reports", t.base()))
        .json(body)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn list(t: &TestStack, bearer: Option<&str>) -> (u16, Value) {
    let mut req = t.http.get(format!("{}/operator/abuse-reports", t.base()));
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn anyone_reports_abuse_and_only_the_operator_reads_the_reports() {
    let t = spawn_stack().await;
    let spam = json!({
        "category": "spam",
        "description": "Daily offers from this number, though I never gave it my number",
        "business_phone_number": "+15550001111",
        "reporter_email": "Someone@Example.org",
    });
    let (status, first) = report(&t, &spam).await;
    assert_eq!(status, 202, "{first}");
    assert_eq!(first["status"], "received");
    let id = first["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("abr_"), "{id}");

    // Sent again (a retry): the same report, kept once.
    let (status, again) = report(&t, &spam).await;
    assert_eq!(status, 202, "{again}");
    assert_eq!(again["id"], id.as_str());
    assert_eq!(again["received_at"], first["received_at"]);
    assert_eq!(t.stack.metrics.total("api", "AbuseReportsReceived"), 1.0);

    let (status, problem) = report(
        &t,
        &json!({ "category": "rude", "description": " ", "business_phone_number": "12", "reporter_email": "x" }),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "category",
            "description",
            "business_phone_number",
            "reporter_email"
        ]
    );

    // Only the operator's key lists them: no credentials, a tenant's key or an admin's
    // token do not.
    let (status, _) = list(&t, None).await;
    assert_eq!(status, 401);
    let (status, _) = list(&t, Some(API_KEY)).await;
    assert_eq!(status, 403);
    let operator = t.operator_key().await;
    let (status, page) = list(&t, Some(&operator)).await;
    assert_eq!(status, 200, "{page}");
    let reports = page["data"].as_array().expect("data");
    assert_eq!(reports.len(), 1, "{page}");
    assert_eq!(reports[0]["id"], id.as_str());
    assert_eq!(reports[0]["category"], "spam");
    assert_eq!(reports[0]["business_phone_number"], "15550001111");
    assert_eq!(reports[0]["reporter_email"], "someone@example.org");

    let (status, _, problem) = t
        .api_request(
            Method::GET,
            "/operator/abuse-reports?month=2026-13",
            &[("authorization", &format!("Bearer {operator}"))],
            None,
        )
        .await;
    assert_eq!(status, 400, "{problem}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_address_sends_only_so_many_reports_an_hour() {
    let t = spawn_stack().await;
    for i in 0..switchboard_api::REPORTS_PER_SOURCE {
        let (status, body) = report(
            &t,
            &json!({ "category": "other", "description": format!("report {i}") }),
        )
        .await;
        assert_eq!(status, 202, "{i}: {body}");
    }
    let r = t
        .http
        .post(format!("{}/v1/abuse-reports", t.base()))
        .json(&json!({ "category": "other", "description": "one too many" }))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 429);
    let retry_after: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    let operator = t.operator_key().await;
    let (status, page) = list(&t, Some(&operator)).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        page["data"].as_array().map(Vec::len),
        Some(switchboard_api::REPORTS_PER_SOURCE as usize)
    );
}
