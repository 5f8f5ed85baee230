//! The compliance state tests set up again and again: an approved template, a customer's
//! opt-in, quiet hours away from the recipients' local time.

use crate::{ADMIN_EMAIL, ADMIN_PASSWORD, Auth, TestStack, WABA_ID};
use reqwest::Method;
use serde_json::{Value, json};
use switchboard_store::TemplateRecord;

/// Stores `name` (en_US) as APPROVED in the demo tenant's WABA, as Meta's webhook would leave it.
pub async fn approve_template(t: &TestStack, name: &str, category: &str) {
    approve_template_with_id(t, name, category, "1001").await;
}

/// As [`approve_template`], with Meta's template id (webhooks about it name it).
pub async fn approve_template_with_id(t: &TestStack, name: &str, category: &str, id: &str) {
    let now = time::OffsetDateTime::now_utc();
    t.stack
        .store
        .put_template(
            &switchboard_domain::TenantId::from("acme"),
            &TemplateRecord {
                waba_id: WABA_ID.into(),
                name: name.into(),
                language: "en_US".into(),
                template_id: Some(id.into()),
                category: category.into(),
                status: "APPROVED".into(),
                reason: None,
                quality: None,
                components_json: "[]".into(),
                created_at: now,
                status_at: Some(now),
                category_at: None,
                quality_at: None,
                created_by: None,
            },
            true,
        )
        .await
        .expect("template stored");
}

/// Sets the tenant's quiet hours to a window that is hours away from now in Madrid, so
/// marketing to the Madrid numbers the tests use is not deferred whatever the time of day.
pub async fn quiet_hours_elsewhere(t: &TestStack) {
    let madrid = jiff::tz::TimeZone::get("Europe/Madrid").expect("zone");
    let hour = jiff::Timestamp::now().to_zoned(madrid).hour();
    let (start, end) = ((hour + 6) % 24, (hour + 8) % 24);
    let admin = t.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, _, settings) = t
        .call(
            Method::PATCH,
            "/v1/tenant",
            Auth::Bearer(&admin),
            Some(&json!({ "settings": { "marketing": { "quiet_hours": {
                "start": format!("{start:02}:00"), "end": format!("{end:02}:00")
            } } } })),
        )
        .await;
    assert_eq!(status, 200, "{settings}");
}

/// Records the customer's opt-in from a web form, with its proof; the API's answer.
pub async fn opt_in(t: &TestStack, to: &str) -> (u16, Value) {
    let (status, answer) = t
        .api_post(
            &format!("/v1/contacts/{to}/opt-in"),
            &json!({ "source": "web_form", "proof": {
                "text": "Yes, send me offers on WhatsApp",
                "url": "https://acme.example/signup",
                "captured_at": "2026-11-30T10:00:00Z"
            } }),
            &[],
        )
        .await;
    (status.as_u16(), answer)
}
