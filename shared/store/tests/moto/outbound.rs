use crate::common::{T0, customer, outbound, pnid, table, tenant};
use switchboard_domain::{ConversationId, Direction, MessageId, MessageStatus, Wamid};
use switchboard_store::{
    DecisionOutcome, DeliveryError, Found, Lookup, PhoneRoute, PolicyDecisionRecord, Recorded,
    StoreError, Tenant,
};
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

#[tokio::test]
async fn a_business_message_moves_its_conversation_in_its_recording_and_an_older_one_does_not() {
    let t = table("outbound-latest").await;
    let acme = tenant("acme");
    let later = outbound("msg_later", customer(2), T0 + Duration::seconds(5), "later");
    let earlier = outbound("msg_earlier", customer(2), T0, "earlier");

    let first = t
        .store
        .create_outbound_message(&acme, &later)
        .await
        .unwrap();
    let c = t
        .store
        .get_conversation(&acme, first.conversation_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.message_count, 1);
    assert_eq!(c.last_message_at, later.created_at);
    assert_eq!(c.created_at, later.created_at);
    assert_eq!(c.last_message_preview.as_deref(), Some("later"));

    // Recorded after a later one (a clock behind): stored and counted, the conversation
    // keeps showing the later message.
    let second = t
        .store
        .create_outbound_message(&acme, &earlier)
        .await
        .unwrap();
    assert!(matches!(second, Recorded::New { .. }), "{second:?}");
    let c = t
        .store
        .get_conversation(&acme, first.conversation_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.message_count, 2);
    assert_eq!(c.last_message_at, later.created_at);
    assert_eq!(c.last_message_preview.as_deref(), Some("later"));
    assert!(
        t.store
            .get_message(&acme, &earlier.message_id)
            .await
            .unwrap()
            .is_some()
    );

    // A duplicate of either changes nothing.
    for m in [&later, &earlier] {
        let again = t.store.create_outbound_message(&acme, m).await.unwrap();
        assert!(matches!(again, Recorded::Duplicate { .. }), "{again:?}");
    }
    let c = t
        .store
        .get_conversation(&acme, first.conversation_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.message_count, 2);
    assert_eq!(c.last_message_preview.as_deref(), Some("later"));
}

fn allow(at: time::OffsetDateTime) -> PolicyDecisionRecord {
    PolicyDecisionRecord {
        outcome: DecisionOutcome::Allow,
        reason: None,
        detail: None,
        until: None,
        at,
    }
}

#[tokio::test]
async fn a_send_is_recorded_with_its_allow_in_one_write_where_the_message_was_read() {
    let t = table("outbound-at").await;
    let acme = tenant("acme");
    let m = outbound("msg_at", customer(3), T0, "hello");
    t.store.create_outbound_message(&acme, &m).await.unwrap();
    let loaded = t
        .store
        .load_outbound_message(&acme, &m.message_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(loaded.record.status, MessageStatus::Queued);
    assert_eq!(loaded.payload.as_deref(), Some(m.body_json.as_str()));
    assert_eq!(loaded.at.message_id(), &m.message_id);
    assert_eq!(loaded.at, m.stored_at(&acme).unwrap());

    // A location read for one tenant reaches nothing of another's.
    let err = t
        .store
        .mark_sent_at(
            &tenant("globex"),
            &loaded.at,
            &Wamid::from("wamid.g"),
            T0,
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidKey { .. }), "{err:?}");
    assert!(t.partition("T#globex#WAMID#wamid.g").await.is_empty());

    let wamid = Wamid::from("wamid.at");
    let allowed = allow(T0);
    t.store
        .mark_sent_at(
            &acme,
            &loaded.at,
            &wamid,
            T0 + Duration::seconds(1),
            Some(&allowed),
        )
        .await
        .unwrap();
    let sent = t
        .store
        .get_message(&acme, &m.message_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sent.status, MessageStatus::Sent);
    assert_eq!(sent.wamid.as_ref(), Some(&wamid));
    assert_eq!(sent.sent_at, Some(T0 + Duration::seconds(1)));
    assert_eq!(sent.decision.as_ref(), Some(&allowed));

    // A later status first, then the send recorded again (a redelivery): nothing moves back,
    // the first sent time stays.
    t.store
        .apply_status(
            &acme,
            &switchboard_store::StatusChange {
                wamid: wamid.clone(),
                status: MessageStatus::Delivered,
                at: T0 + Duration::seconds(2),
                error: None,
                pricing_json: None,
            },
        )
        .await
        .unwrap();
    t.store
        .mark_sent_at(&acme, &loaded.at, &wamid, T0 + Duration::seconds(9), None)
        .await
        .unwrap();
    let again = t
        .store
        .get_message(&acme, &m.message_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.status, MessageStatus::Delivered);
    assert_eq!(again.sent_at, Some(T0 + Duration::seconds(1)));
    assert_eq!(again.decision.as_ref(), Some(&allowed));
    let err = t
        .store
        .mark_sent_at(&acme, &loaded.at, &Wamid::from("wamid.other"), T0, None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::MessageAlreadySent { .. }),
        "{err:?}"
    );
    assert!(t.partition("T#acme#WAMID#wamid.other").await.is_empty());

    // Allowed, then not sent (say, no token): failed, with the allow that let it try.
    let f = outbound("msg_at_failed", customer(3), T0 + Duration::seconds(3), "x");
    t.store.create_outbound_message(&acme, &f).await.unwrap();
    let error = DeliveryError {
        code: 0,
        title: Some("WhatsApp channel not connected".into()),
        details: None,
    };
    t.store
        .mark_failed_at(
            &acme,
            &f.stored_at(&acme).unwrap(),
            &error,
            T0,
            Some(&allowed),
        )
        .await
        .unwrap();
    let failed = t
        .store
        .get_message(&acme, &f.message_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failed.status, MessageStatus::Failed);
    assert_eq!(failed.error.as_ref(), Some(&error));
    assert_eq!(failed.decision.as_ref(), Some(&allowed));
}

#[tokio::test]
async fn one_look_up_returns_what_each_read_returns() {
    let t = table("outbound-look-up").await;
    let acme = tenant("acme");
    t.store
        .put_tenant(&Tenant::new(acme.clone(), "Acme Ltd", T0))
        .await
        .unwrap();
    t.store
        .put_phone_route(&PhoneRoute {
            phone_number_id: pnid(),
            tenant_id: acme.clone(),
            waba_id: "102290129340398".into(),
            display_phone_number: "+1 555 0100".into(),
            messages_per_second: None,
        })
        .await
        .unwrap();
    let m = outbound("msg_look", customer(4), T0, "hi");
    let recorded = t.store.create_outbound_message(&acme, &m).await.unwrap();
    t.store
        .ensure_contact(&acme, &customer(4), T0)
        .await
        .unwrap();

    let found = t
        .store
        .look_up(
            &acme,
            &Lookup {
                tenant: true,
                phone_route: Some(&pnid()),
                contact: Some(&customer(4)),
                conversation: Some(recorded.conversation_id()),
                campaign: Some("cmp_missing"),
            },
        )
        .await
        .unwrap();
    assert_eq!(found.tenant, t.store.get_tenant(&acme).await.unwrap());
    assert_eq!(
        found.phone_route,
        t.store.find_phone_route(&pnid()).await.unwrap()
    );
    assert_eq!(
        found.contact,
        t.store.get_contact(&acme, &customer(4)).await.unwrap()
    );
    assert!(found.contact.is_some());
    assert_eq!(
        found.conversation,
        t.store
            .get_conversation(&acme, recorded.conversation_id())
            .await
            .unwrap()
    );
    assert!(found.conversation.is_some());
    assert_eq!(found.campaign, None);

    // Another tenant's look-up names only its own items (the route is global).
    let other = t
        .store
        .look_up(
            &tenant("globex"),
            &Lookup {
                tenant: true,
                phone_route: Some(&pnid()),
                contact: Some(&customer(4)),
                conversation: Some(recorded.conversation_id()),
                campaign: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(other.tenant, None);
    assert_eq!(other.contact, None);
    assert_eq!(other.conversation, None);
    assert_eq!(
        other.phone_route.map(|r| r.tenant_id),
        Some(acme.clone()),
        "the route says who holds the number"
    );
    assert_eq!(
        t.store.look_up(&acme, &Lookup::default()).await.unwrap(),
        Found::default()
    );
}
