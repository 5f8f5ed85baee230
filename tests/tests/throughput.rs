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
