use crate::common::{T0, cursors, customer, inbound, table, tenant};
use switchboard_domain::{MessageStatus, TenantId, Wamid};
use switchboard_store::{StatusApplied, StatusChange, StoreError};
use time::Duration;

#[tokio::test]
async fn a_tenant_cannot_read_or_touch_another_tenants_conversations() {
    let t = table("tenancy-reads").await;
    let (a, b) = (tenant("acme"), tenant("globex"));
    let m = inbound("wamid.secret", customer(1), T0, "my address is …");
    let r = t.store.record_inbound_message(&a, &m).await.unwrap();

    assert!(
        t.store
            .get_conversation(&b, r.conversation_id())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        t.store
            .get_message(&b, r.message_id())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        t.store
            .list_messages(&b, r.conversation_id(), 10, None, cursors())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        t.store
            .list_conversations(&b, 10, None, cursors())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        t.store
            .list_conversations(&a, 10, None, cursors())
            .await
            .unwrap()
            .items
            .len(),
        1
    );

    // A status naming A's wamid, applied as B, stays B's business.
    let read = StatusChange {
        wamid: Wamid::from("wamid.secret"),
        status: MessageStatus::Read,
        at: T0 + Duration::seconds(1),
        error: None,
        pricing_json: None,
    };
    assert_eq!(
        t.store.apply_status(&b, &read).await.unwrap(),
        StatusApplied::Pending
    );
    let untouched = t
        .store
        .get_message(&a, r.message_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(untouched.status, MessageStatus::Received);
    assert_eq!(untouched.read_at, None);

    // Every item the store wrote for A is under A's prefix, or is one of the documented globals.
    for item in t.all_items().await {
        let pk = item["pk"].as_s().unwrap();
        assert!(
            pk.starts_with("T#acme#") || pk.starts_with("T#globex#"),
            "unexpected key {pk}"
        );
    }
}

#[tokio::test]
async fn cursors_only_work_for_the_listing_that_made_them() {
    let t = table("tenancy-cursors").await;
    let (a, b) = (tenant("acme"), tenant("globex"));
    let mut conversations = Vec::new();
    for n in 0..3u32 {
        let m = inbound(
            &format!("wamid.t{n}"),
            customer(n),
            T0 + Duration::seconds(i64::from(n)),
            "x",
        );
        conversations.push(
            t.store
                .record_inbound_message(&a, &m)
                .await
                .unwrap()
                .conversation_id()
                .clone(),
        );
        let again = inbound(
            &format!("wamid.t{n}.2"),
            customer(n),
            T0 + Duration::minutes(i64::from(n) + 1),
            "y",
        );
        t.store.record_inbound_message(&a, &again).await.unwrap();
    }
    let page = t
        .store
        .list_conversations(&a, 1, None, cursors())
        .await
        .unwrap();
    let cursor = page.next_cursor.unwrap();
    assert!(
        t.store
            .list_conversations(&a, 1, Some(&cursor), cursors())
            .await
            .is_ok()
    );
    let err = t
        .store
        .list_conversations(&b, 1, Some(&cursor), cursors())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidCursor), "{err:?}");
    assert!(!err.is_retryable());

    let page = t
        .store
        .list_messages(&a, &conversations[0], 1, None, cursors())
        .await
        .unwrap();
    let cursor = page.next_cursor.unwrap();
    assert!(
        t.store
            .list_messages(&a, &conversations[0], 1, Some(&cursor), cursors())
            .await
            .is_ok()
    );
    for (tenant, conversation) in [(&b, &conversations[0]), (&a, &conversations[1])] {
        let err = t
            .store
            .list_messages(tenant, conversation, 1, Some(&cursor), cursors())
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::InvalidCursor), "{err:?}");
    }
    // A conversation cursor is not a message cursor, and garbage is not a cursor.
    let conversation_cursor = t
        .store
        .list_conversations(&a, 1, None, cursors())
        .await
        .unwrap()
        .next_cursor
        .unwrap();
    for bad in [conversation_cursor.as_str(), "!!", "eyJwayI6IngifQ"] {
        let err = t
            .store
            .list_messages(&a, &conversations[0], 1, Some(bad), cursors())
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::InvalidCursor), "{bad}: {err:?}");
    }
}

#[tokio::test]
async fn a_tenant_id_that_could_forge_another_tenants_keys_is_refused() {
    let t = table("tenancy-ids").await;
    let forged = TenantId::from("acme#CONV#conv_x");
    let err = t.store.get_tenant(&forged).await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidKey { .. }), "{err:?}");
    let err = t
        .store
        .record_inbound_message(&forged, &inbound("wamid.f", customer(1), T0, "x"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidKey { .. }), "{err:?}");
}
