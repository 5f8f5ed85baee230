use crate::common::{T0, table, tenant};
use switchboard_store::{Begin, IdempotencyKey, IdempotencyStore, StoreError};
use time::Duration;

const LEASE: Duration = Duration::seconds(30);
const KEEP: Duration = Duration::hours(1);

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

#[tokio::test]
async fn begin_complete_and_repeat() {
    let store = idempotency("idem-complete").await;
    let key = webhook_key("wamid.1");
    assert_eq!(store.begin(&key, T0, LEASE).await.unwrap(), Begin::Started);
    assert_eq!(
        store
            .begin(&key, T0 + Duration::seconds(1), LEASE)
            .await
            .unwrap(),
        Begin::InProgress
    );

    store
        .complete(
            &key,
            Some(r#"{"ok":true}"#),
            T0 + Duration::seconds(2),
            KEEP,
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .begin(&key, T0 + Duration::seconds(3), LEASE)
            .await
            .unwrap(),
        Begin::Completed {
            response: Some(r#"{"ok":true}"#.into())
        }
    );
    // A failure after completion must not reopen the key.
    store.release(&key).await.unwrap();
    assert!(matches!(
        store
            .begin(&key, T0 + Duration::minutes(59), LEASE)
            .await
            .unwrap(),
        Begin::Completed { .. }
    ));
    // Once the completed record has expired (TTL has not removed it), the key starts over.
    assert_eq!(
        store
            .begin(&key, T0 + KEEP + Duration::seconds(5), LEASE)
            .await
            .unwrap(),
        Begin::Started
    );
}

#[tokio::test]
async fn an_abandoned_claim_can_be_taken_over_after_its_lease() {
    let store = idempotency("idem-lease").await;
    let key = webhook_key("wamid.2");
    assert_eq!(store.begin(&key, T0, LEASE).await.unwrap(), Begin::Started);
    assert_eq!(
        store
            .begin(&key, T0 + LEASE - Duration::seconds(1), LEASE)
            .await
            .unwrap(),
        Begin::InProgress
    );
    assert_eq!(
        store
            .begin(&key, T0 + LEASE + Duration::seconds(1), LEASE)
            .await
            .unwrap(),
        Begin::Started
    );
}

#[tokio::test]
async fn release_lets_a_retry_start() {
    let store = idempotency("idem-release").await;
    let key = webhook_key("wamid.3");
    assert_eq!(store.begin(&key, T0, LEASE).await.unwrap(), Begin::Started);
    store.release(&key).await.unwrap();
    assert_eq!(
        store
            .begin(&key, T0 + Duration::seconds(1), LEASE)
            .await
            .unwrap(),
        Begin::Started
    );
    // Releasing a key nobody holds is fine.
    store.release(&webhook_key("never-begun")).await.unwrap();
}

#[tokio::test]
async fn concurrent_begins_let_exactly_one_through() {
    let store = idempotency("idem-race").await;
    let key = webhook_key("wamid.4");
    let (a, b, c, d) = tokio::join!(
        store.begin(&key, T0, LEASE),
        store.begin(&key, T0, LEASE),
        store.begin(&key, T0, LEASE),
        store.begin(&key, T0, LEASE),
    );
    let outcomes = [a.unwrap(), b.unwrap(), c.unwrap(), d.unwrap()];
    assert_eq!(
        outcomes.iter().filter(|o| **o == Begin::Started).count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes.iter().filter(|o| **o == Begin::InProgress).count(),
        3
    );
}

#[tokio::test]
async fn the_same_key_with_another_payload_is_refused() {
    let store = idempotency("idem-hash").await;
    let key = IdempotencyKey::Tenant {
        tenant: tenant("acme"),
        scope: "send_message".into(),
        key: "order-42".into(),
    };
    assert_eq!(
        store
            .begin_with_hash(&key, "hash-a", T0, LEASE)
            .await
            .unwrap(),
        Begin::Started
    );
    store.complete(&key, Some("msg_1"), T0, KEEP).await.unwrap();
    assert_eq!(
        store
            .begin_with_hash(&key, "hash-a", T0 + Duration::seconds(1), LEASE)
            .await
            .unwrap(),
        Begin::Completed {
            response: Some("msg_1".into())
        }
    );
    let err = store
        .begin_with_hash(&key, "hash-b", T0 + Duration::seconds(1), LEASE)
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
    assert_eq!(
        store.begin(&key("acme"), T0, LEASE).await.unwrap(),
        Begin::Started
    );
    assert_eq!(
        store.begin(&key("globex"), T0, LEASE).await.unwrap(),
        Begin::Started
    );
}
