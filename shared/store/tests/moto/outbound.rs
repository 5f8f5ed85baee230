use crate::common::{T0, customer, outbound, table, tenant};
use switchboard_domain::{ConversationId, Direction, MessageId, MessageStatus, Wamid};
use switchboard_store::{Recorded, StoreError};
use time::Duration;

#[tokio::test]
async fn creating_the_same_outbound_message_twice_is_a_duplicate() {
    let t = table("outbound-dup").await;
    let acme = tenant("acme");
    let m = outbound(
        "msg_01jb0000000000000000000001",
        customer(1),
        T0,
        "Your order shipped",
    );

    let first = t.store.create_outbound_message(&acme, &m).await.unwrap();
    let again = t.store.create_outbound_message(&acme, &m).await.unwrap();
    assert!(matches!(first, Recorded::New { .. }));
    assert_eq!(
        again,
        Recorded::Duplicate {
            conversation_id: first.conversation_id().clone(),
            message_id: m.message_id.clone(),
        }
    );
    assert_eq!(
        first.conversation_id(),
        &ConversationId::derive(&m.phone_number_id, &m.to)
    );

    let c = t
        .store
        .get_conversation(&acme, first.conversation_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.message_count, 1);
    assert_eq!(
        c.last_message_preview.as_deref(),
        Some("Your order shipped")
    );
    // Only the customer opens the service window.
    assert_eq!(c.window_expires_at, None);

    let stored = t
        .store
        .get_message(&acme, &m.message_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, MessageStatus::Queued);
    assert_eq!(stored.direction, Direction::Outbound);
    assert_eq!(stored.wamid, None);
}

#[tokio::test]
async fn mark_sent_is_repeatable_but_a_wamid_belongs_to_one_message() {
    let t = table("outbound-wamid").await;
    let acme = tenant("acme");
    let a = outbound("msg_a", customer(1), T0, "a");
    let b = outbound("msg_b", customer(1), T0 + Duration::seconds(1), "b");
    t.store.create_outbound_message(&acme, &a).await.unwrap();
    t.store.create_outbound_message(&acme, &b).await.unwrap();

    let wamid = Wamid::from("wamid.a");
    t.store
        .mark_sent(&acme, &a.message_id, &wamid, T0)
        .await
        .unwrap();
    t.store
        .mark_sent(&acme, &a.message_id, &wamid, T0)
        .await
        .unwrap();
    let m = t
        .store
        .get_message(&acme, &a.message_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.status, MessageStatus::Sent);
    assert_eq!(m.sent_at, Some(T0));

    let err = t
        .store
        .mark_sent(&acme, &b.message_id, &wamid, T0)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::WamidConflict { .. }), "{err:?}");
    assert!(!err.is_retryable());
    let err = t
        .store
        .mark_sent(&acme, &a.message_id, &Wamid::from("wamid.other"), T0)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::MessageAlreadySent { .. }),
        "{err:?}"
    );
    assert!(t.partition("T#acme#WAMID#wamid.other").await.is_empty());

    let err = t
        .store
        .mark_sent(
            &acme,
            &MessageId::from("msg_missing"),
            &Wamid::from("wamid.x"),
            T0,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}
