use crate::common::{T0, table, tenant};
use switchboard_store::{Begin, IdempotencyKey, IdempotencyStore, Lease, StoreError};
use time::Duration;

const LEASE: Duration = Duration::seconds(30);
const KEEP: Duration = Duration::hours(1);
const HASH: &str = "payload-hash";

fn webhook_key(event: &str) -> IdempotencyKey {
    IdempotencyKey::WebhookEvent {
        phone_number_id_or_waba: "106540352242922".into(),
        event_key: event.into(),
    }
}

async fn idempotency(label: &str) -> IdempotencyStore {
    let t = table(label).await;
    IdempotencyStore::new(t.client, t.name)
}

fn started(b: Begin) -> Lease {
    match b {
        Begin::Started(lease) => lease,
        other => panic!("expected the claim, got {other:?}"),
    }
}

#[tokio::test]
async fn begin_complete_and_repeat() {
    let store = idempotency("idem-complete").await;
    let key = webhook_key("wamid.1");
    let lease = started(store.begin(&key, HASH, T0, LEASE).await.unwrap());
    let second = store
        .begin(&key, HASH, T0 + Duration::seconds(1), LEASE)
        .await
        .unwrap();
    assert!(
        matches!(second, Begin::InProgress { until, stage: None, .. } if until == T0 + LEASE),
        "{second:?}"
    );

    store
        .complete(
            &key,
            &lease,
            Some(r#"{"ok":true}"#),
            T0 + Duration::seconds(2),
            KEEP,
        )
        .await
        .unwrap();
    // Completing again with the same lease (a retried call) is harmless.
    store
        .complete(&key, &lease, Some(r#"{"ok":true}"#), T0, KEEP)
        .await
        .unwrap();
    assert_eq!(
        store
            .begin(&key, HASH, T0 + Duration::seconds(3), LEASE)
            .await
            .unwrap(),
        Begin::Completed {
            response: Some(r#"{"ok":true}"#.into())
        }
    );
    // A failure after completion must not reopen the key.
    assert!(matches!(
        store.release(&key, &lease).await,
        Err(StoreError::LeaseLost)
    ));
    assert!(matches!(
        store
            .begin(&key, HASH, T0 + Duration::minutes(59), LEASE)
            .await
            .unwrap(),
        Begin::Completed { .. }
    ));
    // Once the completed record has expired (TTL has not removed it), the key starts over.
    assert!(
        store
            .begin(&key, HASH, T0 + KEEP + Duration::seconds(5), LEASE)
            .await
            .unwrap()
            .is_started()
    );
}

#[tokio::test]
async fn an_abandoned_claim_is_taken_over_and_its_old_holder_can_no_longer_act() {
    let store = idempotency("idem-lease").await;
    let key = webhook_key("wamid.2");
    let first = started(store.begin(&key, HASH, T0, LEASE).await.unwrap());
    assert!(
        store
            .begin(&key, HASH, T0 + LEASE - Duration::seconds(1), LEASE)
            .await
            .unwrap()
            .is_in_progress()
    );
    let second = started(
        store
            .begin(&key, HASH, T0 + LEASE + Duration::seconds(1), LEASE)
            .await
            .unwrap(),
    );
    assert_ne!(first, second);
    // The first holder wakes up: it cannot complete, advance or release its successor's claim.
    for outcome in [
        store.complete(&key, &first, Some("late"), T0, KEEP).await,
        store
            .advance(&key, &first, "sending", T0, Duration::days(1))
            .await,
        store.release(&key, &first).await,
    ] {
        assert!(matches!(outcome, Err(StoreError::LeaseLost)), "{outcome:?}");
    }
    store
        .complete(&key, &second, Some("ours"), T0 + LEASE, KEEP)
        .await
        .unwrap();
    assert_eq!(
        store
            .begin(&key, HASH, T0 + LEASE + Duration::seconds(2), LEASE)
            .await
            .unwrap(),
        Begin::Completed {
            response: Some("ours".into())
        }
    );
}

#[tokio::test]
async fn advancing_extends_the_lease_and_tells_others_the_stage() {
    let store = idempotency("idem-advance").await;
    let key = webhook_key("wamid.5");
    let lease = started(store.begin(&key, HASH, T0, LEASE).await.unwrap());
    let at = T0 + Duration::seconds(5);
    store
        .advance(&key, &lease, "sending", at, Duration::days(15))
        .await
        .unwrap();
    // Long after the first lease would have ended, the claim still holds.
    let later = store
        .begin(&key, HASH, T0 + Duration::days(3), LEASE)
        .await
        .unwrap();
    assert_eq!(
        later,
        Begin::InProgress {
            until: at + Duration::days(15),
            stage: Some("sending".into()),
            stage_at: Some(at),
        }
    );
}

#[tokio::test]
async fn release_lets_a_retry_start() {
    let store = idempotency("idem-release").await;
    let key = webhook_key("wamid.3");
    let lease = started(store.begin(&key, HASH, T0, LEASE).await.unwrap());
    store.release(&key, &lease).await.unwrap();
    // Releasing again (a retried call) is fine: the key is free either way.
    store.release(&key, &lease).await.unwrap();
    assert!(
        store
            .begin(&key, HASH, T0 + Duration::seconds(1), LEASE)
            .await
            .unwrap()
            .is_started()
    );
}

#[tokio::test]
async fn concurrent_begins_let_exactly_one_through() {
    let store = idempotency("idem-race").await;
    let key = webhook_key("wamid.4");
    let (a, b, c, d) = tokio::join!(
        store.begin(&key, HASH, T0, LEASE),
        store.begin(&key, HASH, T0, LEASE),
        store.begin(&key, HASH, T0, LEASE),
        store.begin(&key, HASH, T0, LEASE),
    );
    let outcomes = [a.unwrap(), b.unwrap(), c.unwrap(), d.unwrap()];
    assert_eq!(
        outcomes.iter().filter(|o| o.is_started()).count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(outcomes.iter().filter(|o| o.is_in_progress()).count(), 3);
}

#[tokio::test]
async fn the_same_key_with_another_payload_is_refused_in_progress_and_after() {
    let store = idempotency("idem-hash").await;
    let key = IdempotencyKey::Tenant {
        tenant: tenant("acme"),
        scope: "send_message".into(),
        key: "order-42".into(),
    };
    let lease = started(store.begin(&key, "hash-a", T0, LEASE).await.unwrap());
    let err = store
        .begin(&key, "hash-b", T0 + Duration::seconds(1), LEASE)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::IdempotencyPayloadMismatch),
        "while in progress: {err:?}"
    );
    store
        .complete(&key, &lease, Some("msg_1"), T0, KEEP)
        .await
        .unwrap();
    assert_eq!(
        store
            .begin(&key, "hash-a", T0 + Duration::seconds(1), LEASE)
            .await
            .unwrap(),
        Begin::Completed {
            response: Some("msg_1".into())
        }
    );
    let err = store
        .begin(&key, "hash-b", T0 + Duration::seconds(1), LEASE)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::IdempotencyPayloadMismatch),
        "{err:?}"
    );
}

#[tokio::test]
async fn tenant_keys_do_not_collide_across_tenants() {
    let store = idempotency("idem-tenants").await;
    let key = |t: &str| IdempotencyKey::Tenant {
        tenant: tenant(t),
        scope: "send_message".into(),
        key: "same-key".into(),
    };
    for t in ["acme", "globex"] {
        assert!(
            store
                .begin(&key(t), HASH, T0, LEASE)
                .await
                .unwrap()
                .is_started()
        );
    }
}
