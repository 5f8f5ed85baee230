use crate::common::{T0, table, tenant};
use switchboard_store::UNROUTED_RETENTION;
use time::Duration;

#[tokio::test]
async fn unrouted_events_are_kept_once_listed_oldest_first_and_expire() {
    let t = table("unrouted").await;
    let number = "999000111";
    t.store
        .keep_unrouted(number, "wamid.u2", r#"{"n":2}"#, T0 + Duration::seconds(2))
        .await
        .unwrap();
    t.store
        .keep_unrouted(number, "wamid.u1", r#"{"n":1}"#, T0 + Duration::seconds(1))
        .await
        .unwrap();
    // Redelivery, later: no second copy, the first copy is unchanged.
    t.store
        .keep_unrouted(
            number,
            "wamid.u1",
            r#"{"n":"again"}"#,
            T0 + Duration::seconds(9),
        )
        .await
        .unwrap();
    t.store
        .keep_unrouted("888", "wamid.other", "{}", T0)
        .await
        .unwrap();

    let events = t
        .store
        .list_unrouted(number, 10, T0 + Duration::minutes(1))
        .await
        .unwrap();
    let keys: Vec<_> = events.iter().map(|e| e.event_key.as_str()).collect();
    assert_eq!(keys, ["wamid.u1", "wamid.u2"]);
    assert_eq!(events[0].event_json, r#"{"n":1}"#);
    assert_eq!(events[0].phone_number_id, number);
    assert_eq!(t.store.list_unrouted(number, 1, T0).await.unwrap().len(), 1);

    // Past retention they are gone for readers, whatever TTL has or has not deleted.
    let later = T0 + UNROUTED_RETENTION + Duration::minutes(1);
    assert!(
        t.store
            .list_unrouted(number, 10, later)
            .await
            .unwrap()
            .is_empty()
    );

    t.store.delete_unrouted(number, "wamid.u1").await.unwrap();
    let keys: Vec<_> = t
        .store
        .list_unrouted(number, 10, T0)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_key)
        .collect();
    assert_eq!(keys, ["wamid.u2"]);
}

#[tokio::test]
async fn tenant_events_are_kept_once() {
    let t = table("tenant-events").await;
    let acme = tenant("acme");
    for _ in 0..2 {
        t.store
            .record_tenant_event(
                &acme,
                "tpl-1-APPROVED",
                "message_template_status_update",
                r#"{"event":"APPROVED"}"#,
                T0,
            )
            .await
            .unwrap();
    }
    let items = t
        .partition("T#acme#EVENTS#message_template_status_update")
        .await;
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0]["raw_json"].as_s().unwrap(),
        r#"{"event":"APPROVED"}"#
    );
}
