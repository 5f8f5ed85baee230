//! Sends paced by Meta's limits end to end: the outbound function's shared send pace across
//! concurrent consumers, against a sandbox that enforces the number's throughput and the pair
//! rate exactly as Meta answers them (130429, 131056), and Meta-side faults that must never
//! cost a message or send one twice.

use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use switchboard_e2e::*;

fn text_to(to: &str, body: &str) -> Value {
    json!({ "phone_number_id": PHONE_NUMBER_ID, "to": to, "type": "text", "text": { "body": body } })
}

async fn accepted_id(t: &TestStack, body: Value) -> String {
    let (status, answer) = t.api_post("/v1/messages", &body, &[]).await;
    assert_eq!(status.as_u16(), 202, "{answer}");
    answer["id"].as_str().expect("id").to_owned()
}

/// Our message ids of every send Meta accepted, in the order it accepted them.
async fn accepted_at_meta(t: &TestStack) -> Vec<String> {
    t.sandbox_sent()
        .await
        .iter()
        .filter_map(|s| {
            s["body"]["biz_opaque_callback_data"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

/// Waits until Meta accepted `count` sends, then a moment longer so a duplicate would show.
async fn wait_for_sends(t: &TestStack, count: usize, within: Duration) -> Vec<String> {
    eventually(&format!("{count} sends to reach Meta"), within, || async {
        let sent = accepted_at_meta(t).await;
        (sent.len() >= count).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    accepted_at_meta(t).await
}

fn assert_each_once(sent: &[String], ids: &[String]) {
    let mut seen = HashMap::new();
    for id in sent {
        *seen.entry(id.as_str()).or_insert(0) += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    let expected: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let got: HashSet<&str> = seen.keys().copied().collect();
    assert_eq!(got, expected, "Meta accepted a different set of messages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn meta_faults_at_thirty_percent_5xx_and_ten_percent_130429_cost_no_message_and_send_none_twice()
 {
    let t = spawn_stack().await;
    t.sandbox_put(
        "/sandbox/fault-rates",
        &json!({ "server_error": 0.3, "rate_limit": 0.1, "seed": 20261202 }),
    )
    .await;
    let customers: Vec<String> = (0..6).map(|i| format!("4915120000{i:03}")).collect();
    for customer in &customers {
        t.open_window("acme", customer).await;
    }
    let mut ids = Vec::new();
    for round in 0..3 {
        for customer in &customers {
            ids.push(accepted_id(&t, text_to(customer, &format!("notice {round}"))).await);
        }
    }

    let sent = wait_for_sends(&t, ids.len(), Duration::from_secs(240)).await;
    assert_each_once(&sent, &ids);
    for id in &ids {
        let m = t.message(id).await;
        assert!(
            matches!(m["status"].as_str(), Some("sent" | "delivered" | "read")),
            "{m}"
        );
    }
    // The faults did happen, both kinds.
    let rejections = t.sandbox_rejections().await;
    let random = |code: i64| {
        rejections
            .iter()
            .filter(|r| r["cause"] == "random" && r["code"] == code)
            .count()
    };
    assert!(random(2) > 0 && random(130429) > 0, "{rejections:?}");
    // Paced at the number's rate, Meta's own count never refused one.
    assert!(
        rejections.iter().all(|r| r["cause"] != "throughput"),
        "{rejections:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_pair_rate_holds_back_only_its_customer() {
    let t = spawn_stack().await;
    t.sandbox_put(
        "/sandbox/pair-rate",
        &json!({ "burst": 1, "every_ms": 3000 }),
    )
    .await;
    let busy = "4915130000001";
    let others = ["4915130000002", "4915130000003"];
    t.open_window("acme", busy).await;
    for other in others {
        t.open_window("acme", other).await;
    }
    let first = accepted_id(&t, text_to(busy, "first")).await;
    let second = accepted_id(&t, text_to(busy, "second")).await;
    let mut ids = vec![first.clone(), second.clone()];
    for other in others {
        ids.push(accepted_id(&t, text_to(other, "meanwhile")).await);
    }

    let sent = wait_for_sends(&t, ids.len(), Duration::from_secs(60)).await;
    assert_each_once(&sent, &ids);
    // The busy customer's second message waited for the pair rate; the others did not wait
    // for it, and the busy customer's messages kept their order.
    let position = |id: &str| sent.iter().position(|s| s == id).expect("sent");
    assert!(position(&first) < position(&second));
    for other in &ids[2..] {
        assert!(position(other) < position(&second), "{sent:?}");
    }
    let pair_refusals: Vec<Value> = t
        .sandbox_rejections()
        .await
        .into_iter()
        .filter(|r| r["code"] == 131056)
        .collect();
    assert!(!pair_refusals.is_empty());
    assert!(
        pair_refusals.iter().all(|r| r["recipient"] == busy),
        "{pair_refusals:?}"
    );
}

/// Messages to one number whose tier is 20 a second, offered far faster than that: a
/// campaign queues them all at once (one chunk), and each outbound batch sends its
/// recipients concurrently. The shared send pace keeps the number under its tier: Meta
/// refuses none with 130429, accepts each once, and never more than 20 in a second: two
/// hundred messages, ten seconds of the number's tier at least.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_to_a_tier_20_number_meets_no_130429() {
    const TIER: u32 = 20;
    const RECIPIENTS: usize = 200;
    let t = spawn_stack().await;
    quiet_hours_elsewhere(&t).await;
    approve_template(&t, "order_update", "UTILITY").await;
    t.sandbox_put(
        &format!("/sandbox/numbers/{PHONE_NUMBER_ID}/throughput"),
        &json!({ "messages_per_second": TIER }),
    )
    .await;
    let number = switchboard_domain::PhoneNumberId::new(PHONE_NUMBER_ID.to_owned());
    let mut route = t
        .stack
        .store
        .find_phone_route(&number)
        .await
        .expect("route read")
        .expect("the demo number's route");
    route.messages_per_second = Some(TIER);
    t.stack
        .store
        .put_phone_route(&route)
        .await
        .expect("route stored");

    let recipients: Vec<String> = (0..RECIPIENTS).map(|i| format!("3491200{i:04}")).collect();
    let rows: Vec<Value> = recipients
        .iter()
        .map(|to| json!({ "phone": to, "opt_in": { "source": "checkout", "proof": { "text": "order form" } } }))
        .collect();
    // Imported in parts, each well within the client's timeout on moto.
    for part in rows.chunks(20) {
        let (status, import) = t
            .api_post("/v1/contacts", &json!({ "contacts": part }), &[])
            .await;
        assert_eq!(status, 200, "{import}");
    }
    let (status, created) = t
        .api_post(
            "/v1/campaigns",
            &json!({
                "name": "Order updates",
                "phone_number_id": PHONE_NUMBER_ID,
                "template": { "name": "order_update", "language": "en_US" },
                "recipients": recipients,
            }),
            &[],
        )
        .await;
    assert_eq!(status, 202, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    let done = eventually("the campaign to complete", WAIT * 10, || async {
        let (_, c) = t.api_get(&format!("/v1/campaigns/{id}")).await;
        (c["status"] == "completed").then_some(c)
    })
    .await;
    let counts = &done["counts"];
    let went = counts["sent"].as_u64().unwrap_or(0)
        + counts["delivered"].as_u64().unwrap_or(0)
        + counts["read"].as_u64().unwrap_or(0);
    assert_eq!(went, RECIPIENTS as u64, "{done}");

    let sent = t.sandbox_sent().await;
    let mut per_recipient: HashMap<String, usize> = HashMap::new();
    let mut accepted_at = Vec::new();
    for s in &sent {
        *per_recipient
            .entry(s["body"]["to"].as_str().unwrap_or_default().to_owned())
            .or_default() += 1;
        let at: jiff::Timestamp = s["received_at"]
            .as_str()
            .unwrap_or_default()
            .parse()
            .expect("RFC 3339");
        accepted_at.push(at);
    }
    assert_eq!(per_recipient.len(), RECIPIENTS, "every recipient got one");
    assert!(per_recipient.values().all(|n| *n == 1), "none twice");
    let throttled: Vec<Value> = t
        .sandbox_rejections()
        .await
        .into_iter()
        .filter(|r| r["code"] == 130429)
        .collect();
    assert!(throttled.is_empty(), "{throttled:?}");
    accepted_at.sort();
    let busiest = accepted_at
        .iter()
        .enumerate()
        .map(|(i, from)| {
            let until = *from + jiff::SignedDuration::from_secs(1);
            accepted_at[i..]
                .iter()
                .take_while(|at| **at < until)
                .count()
        })
        .max()
        .unwrap_or(0);
    assert!(busiest <= TIER as usize, "{busiest} sends in one second");
}
