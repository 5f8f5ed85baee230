use crate::common::{T0, cursors, customer, inbound, table, tenant};
use switchboard_domain::ContactKey;
use switchboard_store::MAX_PAGE_SIZE;
use time::Duration;

#[tokio::test]
async fn conversations_page_newest_activity_first() {
    let t = table("reads-conversations").await;
    let acme = tenant("acme");
    for n in 0..5u32 {
        let m = inbound(
            &format!("wamid.c{n}"),
            customer(n),
            T0 + Duration::minutes(i64::from(n)),
            "hi",
        );
        t.store.record_inbound_message(&acme, &m).await.unwrap();
    }
    // Customer 0 writes again and becomes the most recent.
    let m = inbound(
        "wamid.c0.again",
        customer(0),
        T0 + Duration::hours(1),
        "again",
    );
    t.store.record_inbound_message(&acme, &m).await.unwrap();

    let mut seen: Vec<ContactKey> = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = t
            .store
            .list_conversations(&acme, 2, cursor.as_deref(), cursors())
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.into_iter().map(|c| c.contact));
        pages += 1;
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    let expected: Vec<ContactKey> = [0, 4, 3, 2, 1].into_iter().map(customer).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn messages_page_oldest_first() {
    let t = table("reads-messages").await;
    let acme = tenant("acme");
    let mut conversation = None;
    // Recorded newest first; listed oldest first.
    for n in (0..5i64).rev() {
        let m = inbound(
            &format!("wamid.m{n}"),
            customer(7),
            T0 + Duration::seconds(n),
            &format!("m{n}"),
        );
        conversation = Some(
            t.store
                .record_inbound_message(&acme, &m)
                .await
                .unwrap()
                .conversation_id()
                .clone(),
        );
    }
    let conversation = conversation.unwrap();

    let first = t
        .store
        .list_messages(&acme, &conversation, 2, None, cursors())
        .await
        .unwrap();
    let second = t
        .store
        .list_messages(
            &acme,
            &conversation,
            2,
            first.next_cursor.as_deref(),
            cursors(),
        )
        .await
        .unwrap();
    let third = t
        .store
        .list_messages(
            &acme,
            &conversation,
            2,
            second.next_cursor.as_deref(),
            cursors(),
        )
        .await
        .unwrap();
    let texts: Vec<String> = [first, second, third.clone()]
        .into_iter()
        .flat_map(|p| p.items)
        .map(|m| m.text.unwrap())
        .collect();
    assert_eq!(texts, ["m0", "m1", "m2", "m3", "m4"]);
    assert_eq!(third.next_cursor, None);

    // Out-of-range limits are clamped, not errors.
    assert_eq!(
        t.store
            .list_messages(&acme, &conversation, 0, None, cursors())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert_eq!(
        t.store
            .list_messages(&acme, &conversation, MAX_PAGE_SIZE * 10, None, cursors())
            .await
            .unwrap()
            .items
            .len(),
        5
    );
}
