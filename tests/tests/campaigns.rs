//! Campaigns end to end on the local stack: an approved template to a list, each recipient
//! through the same policy gate as a single send, counted by outcome; scheduled campaigns wait
//! for their time; a retried request names the campaign the first one created.

use serde_json::{Value, json};
use switchboard_e2e::*;

async fn record_opt_in(t: &TestStack, to: &str) {
    let (status, answer) = opt_in(t, to).await;
    assert_eq!(status, 200, "{answer}");
}

fn campaign(recipients: Value) -> Value {
    json!({
        "name": "Winter sale",
        "phone_number_id": PHONE_NUMBER_ID,
        "template": {
            "name": "winter_sale", "language": "en_US",
            "components": [{ "type": "body", "parameters": [{ "type": "text", "text": "15%" }] }]
        },
        "recipients": recipients,
    })
}

async fn finished(t: &TestStack, id: &str) -> Value {
    eventually(&format!("campaign {id} to complete"), WAIT * 4, || async {
        let (status, c) = t.api_get(&format!("/v1/campaigns/{id}")).await;
        assert_eq!(status, 200, "{c}");
        (c["status"] == "completed").then_some(c)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_recipient_meets_the_gate_and_the_campaign_counts_each_outcome() {
    let t = spawn_stack().await;
    quiet_hours_elsewhere(&t).await;
    approve_template(&t, "winter_sale", "MARKETING").await;
    let opted_in = ["34910000201", "34910000202", "34910000203"];
    for to in opted_in {
        record_opt_in(&t, to).await;
    }
    let opted_out = "34910000204";
    let (status, contact) = t
        .api_post(
            "/v1/contacts",
            &json!({ "phone": opted_out, "opted_out": true }),
            &[],
        )
        .await;
    assert_eq!(status, 201, "{contact}");
    let never_asked = "34910000205";

    let body = campaign(json!([
        opted_in[0],
        { "to": format!("+{}", opted_in[1]),
          "components": [{ "type": "body", "parameters": [{ "type": "text", "text": "25%" }] }] },
        opted_in[2],
        opted_out,
        never_asked,
        format!("+{}", opted_in[0]),
    ]));
    let key = [("idempotency-key", "winter-sale-1")];
    let (status, created) = t.api_post("/v1/campaigns", &body, &key).await;
    assert_eq!(status, 202, "{created}");
    assert_eq!(created["recipients"], 5, "the repeated number counts once");
    assert_eq!(created["duplicates_removed"], 1);
    let id = created["id"].as_str().expect("id").to_owned();

    // A retry with the same key names the same campaign and queues nothing new.
    let (status, again) = t.api_post("/v1/campaigns", &body, &key).await;
    assert_eq!(status, 202, "{again}");
    assert_eq!(again["id"], id.as_str());

    let done = finished(&t, &id).await;
    let counts = &done["counts"];
    let went = counts["sent"].as_u64().unwrap_or(0)
        + counts["delivered"].as_u64().unwrap_or(0)
        + counts["read"].as_u64().unwrap_or(0);
    assert_eq!(went, 3, "{done}");
    assert_eq!(counts["denied"], 2, "{done}");
    assert_eq!(counts["failed"], 0, "{done}");
    assert_eq!(counts["queued"], 0, "{done}");

    // Exactly one template reached Meta per opted-in recipient, with their own parameters.
    let sent = t.sandbox_sent().await;
    for to in opted_in {
        let to_them: Vec<&Value> = sent.iter().filter(|s| s["body"]["to"] == to).collect();
        assert_eq!(to_them.len(), 1, "one send to {to}: {sent:?}");
        assert_eq!(to_them[0]["body"]["template"]["name"], "winter_sale");
    }
    let second = sent
        .iter()
        .find(|s| s["body"]["to"] == opted_in[1])
        .expect("sent");
    assert_eq!(
        second["body"]["template"]["components"][0]["parameters"][0]["text"],
        "25%"
    );
    for to in [opted_out, never_asked] {
        assert!(
            !sent.iter().any(|s| s["body"]["to"] == to),
            "nothing to {to}"
        );
    }

    let (status, list) = t.api_get("/v1/campaigns").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["data"][0]["id"], id.as_str());
    assert!(list["next_cursor"].is_null(), "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_scheduled_campaign_waits_and_bad_requests_are_refused_whole() {
    let t = spawn_stack().await;
    quiet_hours_elsewhere(&t).await;

    // Not approved (not even known): refused with the policy's reason, nothing stored.
    let (status, problem) = t
        .api_post("/v1/campaigns", &campaign(json!(["34910000211"])), &[])
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["reason"], "template_not_approved", "{problem}");

    approve_template(&t, "winter_sale", "MARKETING").await;
    let (status, problem) = t
        .api_post(
            "/v1/campaigns",
            &campaign(json!(["34910000211", "not-a-number"])),
            &[],
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["type"], "/problems/validation", "{problem}");
    assert_eq!(
        problem["errors"][0]["field"], "recipients[1].to",
        "{problem}"
    );
    let (status, problem) = t.api_post("/v1/campaigns", &campaign(json!([])), &[]).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "recipients", "{problem}");

    let to = "34910000212";
    record_opt_in(&t, to).await;
    let send_at = time::OffsetDateTime::now_utc() + time::Duration::seconds(4);
    let mut body = campaign(json!([to]));
    body["send_at"] = json!(
        send_at
            .format(&time::format_description::well_known::Rfc3339)
            .expect("formats")
    );
    let (status, created) = t.api_post("/v1/campaigns", &body, &[]).await;
    assert_eq!(status, 202, "{created}");
    assert_eq!(created["status"], "scheduled", "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    let (_, now) = t.api_get(&format!("/v1/campaigns/{id}")).await;
    assert_eq!(now["status"], "scheduled", "{now}");
    assert_eq!(now["counts"]["queued"], 1, "{now}");
    assert!(
        !t.sandbox_sent().await.iter().any(|s| s["body"]["to"] == to),
        "nothing goes before its time"
    );

    let done = finished(&t, &id).await;
    let started: jiff::Timestamp = done["started_at"]
        .as_str()
        .expect("started_at")
        .parse()
        .expect("RFC 3339");
    let due: jiff::Timestamp = body["send_at"]
        .as_str()
        .unwrap_or_default()
        .parse()
        .expect("RFC 3339");
    assert!(started >= due, "started {started}, due {due}");

    let (status, _) = t.api_get("/v1/campaigns/cmp_unknown").await;
    assert_eq!(status, 404);
}

/// Two chunks (150 recipients, 100 a chunk): the second is queued at the number's pace after
/// the first (100 at 80/s: 1.25 s later), and every recipient gets an outcome. None of them
/// opted in, so each is denied by the gate without a call to Meta.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_campaign_larger_than_a_chunk_is_paced_chunk_by_chunk_and_finishes() {
    let t = spawn_stack().await;
    quiet_hours_elsewhere(&t).await;
    approve_template(&t, "winter_sale", "MARKETING").await;
    let recipients: Vec<String> = (0..150).map(|i| format!("3491100{i:04}")).collect();
    let (status, created) = t
        .api_post("/v1/campaigns", &campaign(json!(recipients)), &[])
        .await;
    assert_eq!(status, 202, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();

    let done = finished(&t, &id).await;
    assert_eq!(done["recipients"], 150, "{done}");
    assert_eq!(done["counts"]["denied"], 150, "{done}");
    let at = |name: &str| -> jiff::Timestamp {
        done[name]
            .as_str()
            .unwrap_or_default()
            .parse()
            .unwrap_or_else(|e| panic!("{name}: {e}: {done}"))
    };
    let spread = at("dispatched_at").duration_since(at("started_at"));
    assert!(
        spread >= jiff::SignedDuration::from_millis(1250),
        "the second chunk waited for the pace: {spread:?}"
    );
    assert!(
        !t.sandbox_sent()
            .await
            .iter()
            .any(|s| s["body"]["type"] == "template"),
        "no template went to anyone who never opted in"
    );
}

/// Cancelling: a scheduled campaign never starts; a dispatched one's messages that have not
/// gone yet are refused right before their send (here the number's sends are held so that
/// none can go before the cancel); a completed campaign cannot be cancelled.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancelled_campaign_sends_nothing_more() {
    let t = spawn_stack().await;
    quiet_hours_elsewhere(&t).await;
    approve_template(&t, "winter_sale", "MARKETING").await;
    let waiting = ["34910000221", "34910000222", "34910000223"];
    for to in waiting {
        record_opt_in(&t, to).await;
    }

    let send_at = time::OffsetDateTime::now_utc() + time::Duration::seconds(3);
    let mut later = campaign(json!(["34910000224"]));
    later["send_at"] = json!(
        send_at
            .format(&time::format_description::well_known::Rfc3339)
            .expect("formats")
    );
    let (status, scheduled) = t.api_post("/v1/campaigns", &later, &[]).await;
    assert_eq!(status, 202, "{scheduled}");
    let scheduled = scheduled["id"].as_str().expect("id").to_owned();
    let (status, cancelled) = t
        .api_post(
            &format!("/v1/campaigns/{scheduled}/cancel"),
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    let cancelled_at = cancelled["cancelled_at"].clone();
    assert!(cancelled_at.is_string(), "{cancelled}");

    // Meta's side is fine; ours holds the number's sends for a while.
    let tenant = switchboard_domain::TenantId::from("acme");
    let number = switchboard_domain::PhoneNumberId::new(PHONE_NUMBER_ID.to_owned());
    t.stack
        .store
        .hold_sends(
            &tenant,
            &number,
            switchboard_domain::throughput::SendPace::new(
                switchboard_domain::throughput::STANDARD_MESSAGES_PER_SECOND,
            ),
            time::OffsetDateTime::now_utc() + time::Duration::seconds(8),
        )
        .await
        .expect("sends held");
    let (status, created) = t
        .api_post("/v1/campaigns", &campaign(json!(waiting)), &[])
        .await;
    assert_eq!(status, 202, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    eventually("the campaign to be dispatched", WAIT, || async {
        let (_, c) = t.api_get(&format!("/v1/campaigns/{id}")).await;
        (c["status"] == "dispatched").then_some(())
    })
    .await;
    let (status, cancelled) = t
        .api_post(&format!("/v1/campaigns/{id}/cancel"), &json!({}), &[])
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    let counts = eventually("every waiting message to be refused", WAIT, || async {
        let (_, c) = t.api_get(&format!("/v1/campaigns/{id}")).await;
        (c["counts"]["denied"] == 3).then_some(c)
    })
    .await;
    assert_eq!(counts["counts"]["sent"], 0, "{counts}");

    // Cancelling again changes nothing; the scheduled one never started.
    let (status, again) = t
        .api_post(
            &format!("/v1/campaigns/{scheduled}/cancel"),
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["cancelled_at"], cancelled_at, "{again}");
    assert!(again["started_at"].is_null(), "{again}");
    let sent = t.sandbox_sent().await;
    assert!(
        !sent.iter().any(|s| s["body"]["type"] == "template"),
        "no template of a cancelled campaign went out: {sent:?}"
    );

    // One whose every message has its outcome is done: 409. Another tenant's or none: 404.
    let (status, done) = t
        .api_post("/v1/campaigns", &campaign(json!(["34910000225"])), &[])
        .await;
    assert_eq!(status, 202, "{done}");
    let done = done["id"].as_str().expect("id").to_owned();
    finished(&t, &done).await;
    let (status, problem) = t
        .api_post(&format!("/v1/campaigns/{done}/cancel"), &json!({}), &[])
        .await;
    assert_eq!(status, 409, "{problem}");
    let (status, _) = t
        .api_post("/v1/campaigns/cmp_unknown/cancel", &json!({}), &[])
        .await;
    assert_eq!(status, 404);
}
