use crate::common::{T0, cursors, customer, inbound, outbound, table, tenant};
use switchboard_domain::conversation::window_closes_at;
use switchboard_domain::{Direction, MessageStatus, Wamid};
use switchboard_store::{Recorded, inbound_message_id};
use time::Duration;

#[tokio::test]
async fn the_same_message_delivered_three_times_at_once_is_stored_and_counted_once() {
    let t = table("inbound-dup").await;
    let acme = tenant("acme");
    let m = inbound("wamid.dup1", customer(1), T0, "hello");

    let (a, b, c) = tokio::join!(
        t.store.record_inbound_message(&acme, &m),
        t.store.record_inbound_message(&acme, &m),
        t.store.record_inbound_message(&acme, &m),
    );
    let results = [a.unwrap(), b.unwrap(), c.unwrap()];
    assert_eq!(
        results.iter().filter(|r| r.is_new()).count(),
        1,
        "{results:?}"
    );
    let conversation_id = results[0].conversation_id().clone();

    // And once more, later.
    let later = t.store.record_inbound_message(&acme, &m).await.unwrap();
    assert!(matches!(later, Recorded::Duplicate { .. }));
    assert_eq!(later.message_id(), &inbound_message_id(&m.wamid));

    let conversation = t
        .store
        .get_conversation(&acme, &conversation_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conversation.message_count, 1);
    let messages = t
        .store
        .list_messages(&acme, &conversation_id, 10, None, cursors())
        .await
        .unwrap();
    assert_eq!(messages.items.len(), 1);
    let messages_in_table = t
        .all_items()
        .await
        .into_iter()
        .filter(|i| {
            i.get("entity")
                .and_then(|e| e.as_s().ok())
                .map(String::as_str)
                == Some("message")
        })
        .count();
    assert_eq!(messages_in_table, 1);
}

#[tokio::test]
async fn an_older_message_arriving_later_never_shrinks_the_window_or_rewinds_the_conversation() {
    let t = table("inbound-order").await;
    let acme = tenant("acme");
    let newer = inbound("wamid.newer", customer(2), T0, "second");
    let mut older = inbound("wamid.older", customer(2), T0 - Duration::hours(3), "first");
    older.profile_name = Some("Old Name".into());

    let r = t.store.record_inbound_message(&acme, &newer).await.unwrap();
    t.store.record_inbound_message(&acme, &older).await.unwrap();

    let c = t
        .store
        .get_conversation(&acme, r.conversation_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.last_customer_message_at, Some(T0));
    assert_eq!(c.window_expires_at, Some(window_closes_at(T0)));
    assert_eq!(c.last_message_at, T0);
    assert_eq!(c.last_message_preview.as_deref(), Some("second"));
    assert_eq!(c.profile_name.as_deref(), Some("Ana"));
    assert_eq!(c.message_count, 2);
    assert_eq!(c.created_at, newer.received_at);

    let contact = t
        .store
        .get_contact(&acme, &customer(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(contact.last_inbound_at, Some(T0));
    assert_eq!(contact.profile_name.as_deref(), Some("Ana"));

    // A newer message does move everything forward.
    let newest = inbound(
        "wamid.newest",
        customer(2),
        T0 + Duration::hours(1),
        "third",
    );
    t.store
        .record_inbound_message(&acme, &newest)
        .await
        .unwrap();
    let c = t
        .store
        .get_conversation(&acme, r.conversation_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        c.window_expires_at,
        Some(window_closes_at(T0 + Duration::hours(1)))
    );
    assert_eq!(c.last_message_preview.as_deref(), Some("third"));

    let texts: Vec<_> = t
        .store
        .list_messages(&acme, r.conversation_id(), 10, None, cursors())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|m| m.text.unwrap())
        .collect();
    assert_eq!(texts, ["first", "second", "third"]);
}

#[tokio::test]
async fn a_customer_message_older_than_the_latest_reply_extends_the_window_only() {
    let t = table("inbound-after-reply").await;
    let acme = tenant("acme");
    let first = t
        .store
        .record_inbound_message(&acme, &inbound("wamid.q1", customer(4), T0, "question"))
        .await
        .unwrap();
    let reply_at = T0 + Duration::minutes(10);
    t.store
        .create_outbound_message(
            &acme,
            &outbound(
                "msg_01jb0000000000000000000041",
                customer(4),
                reply_at,
                "answer",
            ),
        )
        .await
        .unwrap();
    // Sent before the reply was created, delivered after it.
    let crossed = T0 + Duration::minutes(5);
    let second = t
        .store
        .record_inbound_message(&acme, &inbound("wamid.q2", customer(4), crossed, "more"))
        .await
        .unwrap();
    assert!(second.is_new());

    let c = t
        .store
        .get_conversation(&acme, first.conversation_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.message_count, 3);
    assert_eq!(c.last_message_at, reply_at);
    assert_eq!(c.last_message_preview.as_deref(), Some("answer"));
    assert_eq!(c.last_customer_message_at, Some(crossed));
    assert_eq!(c.window_expires_at, Some(window_closes_at(crossed)));

    // Delivered again: nothing changes.
    let again = t
        .store
        .record_inbound_message(&acme, &inbound("wamid.q2", customer(4), crossed, "more"))
        .await
        .unwrap();
    assert!(matches!(again, Recorded::Duplicate { .. }));
    let c = t
        .store
        .get_conversation(&acme, first.conversation_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.message_count, 3);
    assert_eq!(c.last_message_at, reply_at);
}

#[tokio::test]
async fn a_customer_message_has_no_wamid_pointer() {
    let t = table("inbound-pointers").await;
    let acme = tenant("acme");
    t.store
        .record_inbound_message(&acme, &inbound("wamid.p1", customer(5), T0, "hi"))
        .await
        .unwrap();
    let entities: Vec<String> = t
        .all_items()
        .await
        .into_iter()
        .filter_map(|i| i.get("entity").and_then(|e| e.as_s().ok()).cloned())
        .collect();
    let mut sorted = entities.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["contact", "conversation", "message", "message_pointer"],
        "{entities:?}"
    );
}

#[tokio::test]
async fn an_inbound_message_keeps_what_meta_sent() {
    let t = table("inbound-fields").await;
    let acme = tenant("acme");
    let m = inbound("wamid.fields", customer(3), T0, "hola");
    let r = t.store.record_inbound_message(&acme, &m).await.unwrap();

    let message = t
        .store
        .get_message(&acme, r.message_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(message.direction, Direction::Inbound);
    assert_eq!(message.status, MessageStatus::Received);
    assert_eq!(message.wamid, Some(Wamid::from("wamid.fields")));
    assert_eq!(message.created_at, T0);
    assert_eq!(message.contact, customer(3));
    assert_eq!(message.conversation_id, *r.conversation_id());

    let stored = t
        .all_items()
        .await
        .into_iter()
        .find(|i| {
            i.get("entity")
                .and_then(|e| e.as_s().ok())
                .map(String::as_str)
                == Some("message")
        })
        .unwrap();
    assert_eq!(stored["raw"].as_s().unwrap(), &m.raw);
    assert!(stored["pk"].as_s().unwrap().starts_with("T#acme#"));

    let json = serde_json::to_value(&message).unwrap();
    assert_eq!(json["created_at"], "2026-11-01T10:00:00.000000Z");
    assert_eq!(json["direction"], "inbound");
}

#[tokio::test]
async fn of_two_customer_messages_in_one_second_the_later_sorting_one_is_the_latest_in_either_order()
 {
    let t = table("inbound-same-second").await;
    let acme = tenant("acme");
    for (n, later_first) in [false, true].into_iter().enumerate() {
        let (a, b) = (format!("wamid.same.{n}.a"), format!("wamid.same.{n}.b"));
        // Messages of one second sort by id.
        let a_sorts_later = inbound_message_id(&Wamid::from(a.as_str())).as_str()
            > inbound_message_id(&Wamid::from(b.as_str())).as_str();
        let (later, earlier) = if a_sorts_later { (a, b) } else { (b, a) };
        let order = if later_first {
            [&later, &earlier]
        } else {
            [&earlier, &later]
        };
        let who = customer(6 + n as u32);
        let mut recorded = Vec::new();
        for wamid in order {
            let text = if *wamid == later { "later" } else { "earlier" };
            let m = inbound(wamid, who.clone(), T0, text);
            recorded.push(t.store.record_inbound_message(&acme, &m).await.unwrap());
        }
        assert!(recorded.iter().all(|r| r.is_new()), "{recorded:?}");
        let c = t
            .store
            .get_conversation(&acme, recorded[0].conversation_id())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.message_count, 2, "later first: {later_first}");
        assert_eq!(
            c.last_message_preview.as_deref(),
            Some("later"),
            "later first: {later_first}"
        );
        assert_eq!(c.last_customer_message_at, Some(T0));
        assert_eq!(c.window_expires_at, Some(window_closes_at(T0)));
    }
}
