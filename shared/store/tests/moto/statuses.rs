use crate::common::{T0, TestTable, customer, outbound, table, tenant};
use crate::wire::Gate;
use switchboard_domain::{MessageId, MessageStatus, TenantId, Wamid};
use switchboard_store::{DeliveryError, MessageRecord, StatusApplied, StatusChange};
use time::{Duration, OffsetDateTime};

fn status(wamid: &str, status: MessageStatus, at: OffsetDateTime) -> StatusChange {
    StatusChange {
        wamid: Wamid::from(wamid),
        status,
        at,
        error: None,
        pricing_json: None,
    }
}

async fn queued(t: &TestTable, tenant: &TenantId, id: &str) -> MessageId {
    let r = t
        .store
        .create_outbound_message(tenant, &outbound(id, customer(1), T0, "hi"))
        .await
        .unwrap();
    r.message_id().clone()
}

async fn message(t: &TestTable, tenant: &TenantId, id: &MessageId) -> MessageRecord {
    t.store.get_message(tenant, id).await.unwrap().unwrap()
}

#[tokio::test]
async fn statuses_in_reverse_order_end_as_read_with_every_timestamp() {
    let t = table("status-reverse").await;
    let acme = tenant("acme");
    let id = queued(&t, &acme, "msg_reverse").await;
    let sent_at = T0 + Duration::seconds(1);
    t.store
        .mark_sent(&acme, &id, &Wamid::from("wamid.rev"), sent_at)
        .await
        .unwrap();

    let read = status("wamid.rev", MessageStatus::Read, T0 + Duration::seconds(30));
    let delivered = status(
        "wamid.rev",
        MessageStatus::Delivered,
        T0 + Duration::seconds(20),
    );
    let sent = status("wamid.rev", MessageStatus::Sent, T0 + Duration::seconds(10));
    assert_eq!(
        t.store.apply_status(&acme, &read).await.unwrap(),
        StatusApplied::Advanced
    );
    assert_eq!(
        t.store.apply_status(&acme, &delivered).await.unwrap(),
        StatusApplied::Stale
    );
    assert_eq!(
        t.store.apply_status(&acme, &sent).await.unwrap(),
        StatusApplied::Stale
    );
    assert_eq!(
        t.store.apply_status(&acme, &read).await.unwrap(),
        StatusApplied::Stale
    );

    let m = message(&t, &acme, &id).await;
    assert_eq!(m.status, MessageStatus::Read);
    assert_eq!(m.read_at, Some(read.at));
    assert_eq!(m.delivered_at, Some(delivered.at));
    // The first time recorded for a status wins: mark_sent's, not the late webhook's.
    assert_eq!(m.sent_at, Some(sent_at));
    assert_eq!(m.wamid, Some(Wamid::from("wamid.rev")));
}

#[tokio::test]
async fn failed_records_the_error_and_a_late_failure_does_not_undo_delivery() {
    let t = table("status-failed").await;
    let acme = tenant("acme");
    let id = queued(&t, &acme, "msg_fails").await;
    t.store
        .mark_sent(&acme, &id, &Wamid::from("wamid.f"), T0)
        .await
        .unwrap();
    let mut failed = status("wamid.f", MessageStatus::Failed, T0 + Duration::seconds(5));
    failed.error = Some(DeliveryError {
        code: 131047,
        title: Some("Re-engagement message".into()),
        details: Some("More than 24 hours have passed".into()),
    });
    assert_eq!(
        t.store.apply_status(&acme, &failed).await.unwrap(),
        StatusApplied::Advanced
    );
    let m = message(&t, &acme, &id).await;
    assert_eq!(m.status, MessageStatus::Failed);
    assert_eq!(m.failed_at, Some(failed.at));
    assert_eq!(m.error, failed.error);

    let other = queued(&t, &acme, "msg_delivered").await;
    t.store
        .mark_sent(&acme, &other, &Wamid::from("wamid.d"), T0)
        .await
        .unwrap();
    let delivered = status(
        "wamid.d",
        MessageStatus::Delivered,
        T0 + Duration::seconds(3),
    );
    t.store.apply_status(&acme, &delivered).await.unwrap();
    let mut late_failure = failed.clone();
    late_failure.wamid = Wamid::from("wamid.d");
    assert_eq!(
        t.store.apply_status(&acme, &late_failure).await.unwrap(),
        StatusApplied::Stale
    );
    assert_eq!(
        message(&t, &acme, &other).await.status,
        MessageStatus::Delivered
    );
}

#[tokio::test]
async fn mark_failed_records_our_own_send_failure() {
    let t = table("status-mark-failed").await;
    let acme = tenant("acme");
    let id = queued(&t, &acme, "msg_rejected").await;
    let error = DeliveryError {
        code: 131056,
        title: Some("Pair rate limit hit".into()),
        details: None,
    };
    t.store
        .mark_failed(&acme, &id, &error, T0 + Duration::seconds(1))
        .await
        .unwrap();
    let m = message(&t, &acme, &id).await;
    assert_eq!(m.status, MessageStatus::Failed);
    assert_eq!(m.error.map(|e| e.code), Some(131056));
    assert_eq!(m.failed_at, Some(T0 + Duration::seconds(1)));
}

#[tokio::test]
async fn statuses_before_mark_sent_wait_and_are_applied_by_it() {
    let t = table("status-pending").await;
    let acme = tenant("acme");

    let to_read = queued(&t, &acme, "msg_early_read").await;
    let delivered = status(
        "wamid.early1",
        MessageStatus::Delivered,
        T0 + Duration::seconds(2),
    );
    let read = status(
        "wamid.early1",
        MessageStatus::Read,
        T0 + Duration::seconds(4),
    );
    assert_eq!(
        t.store.apply_status(&acme, &read).await.unwrap(),
        StatusApplied::Pending
    );
    assert_eq!(
        t.store.apply_status(&acme, &delivered).await.unwrap(),
        StatusApplied::Pending
    );
    assert_eq!(
        message(&t, &acme, &to_read).await.status,
        MessageStatus::Queued
    );

    t.store
        .mark_sent(
            &acme,
            &to_read,
            &Wamid::from("wamid.early1"),
            T0 + Duration::seconds(1),
        )
        .await
        .unwrap();
    let m = message(&t, &acme, &to_read).await;
    assert_eq!(m.status, MessageStatus::Read);
    assert_eq!(m.sent_at, Some(T0 + Duration::seconds(1)));
    assert_eq!(m.delivered_at, Some(delivered.at));
    assert_eq!(m.read_at, Some(read.at));
    // Only the pointer is left under the wamid: pending records were consumed.
    let left = t.partition("T#acme#WAMID#wamid.early1").await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["sk"].as_s().unwrap(), "PTR");

    let to_deliver = queued(&t, &acme, "msg_early_delivered").await;
    let delivered = status(
        "wamid.early2",
        MessageStatus::Delivered,
        T0 + Duration::seconds(2),
    );
    assert_eq!(
        t.store.apply_status(&acme, &delivered).await.unwrap(),
        StatusApplied::Pending
    );
    t.store
        .mark_sent(
            &acme,
            &to_deliver,
            &Wamid::from("wamid.early2"),
            T0 + Duration::seconds(1),
        )
        .await
        .unwrap();
    assert_eq!(
        message(&t, &acme, &to_deliver).await.status,
        MessageStatus::Delivered
    );
}

#[tokio::test]
async fn an_expired_pending_status_is_not_applied() {
    let t = table("status-pending-expired").await;
    let acme = tenant("acme");
    let id = queued(&t, &acme, "msg_late_send").await;
    let delivered = status("wamid.stale", MessageStatus::Delivered, T0);
    assert_eq!(
        t.store.apply_status(&acme, &delivered).await.unwrap(),
        StatusApplied::Pending
    );
    t.store
        .mark_sent(
            &acme,
            &id,
            &Wamid::from("wamid.stale"),
            T0 + Duration::days(8),
        )
        .await
        .unwrap();
    let m = message(&t, &acme, &id).await;
    assert_eq!(m.status, MessageStatus::Sent);
    assert_eq!(m.delivered_at, None);
    assert_eq!(t.partition("T#acme#WAMID#wamid.stale").await.len(), 1);
}

#[tokio::test]
async fn a_status_racing_mark_sent_is_never_lost() {
    let t = table("status-race").await;
    let acme = tenant("acme");
    for round in 0..8 {
        let id = queued(&t, &acme, &format!("msg_race_{round}")).await;
        let wamid = format!("wamid.race{round}");
        let delivered = status(&wamid, MessageStatus::Delivered, T0 + Duration::seconds(2));
        let wamid = Wamid::from(wamid.as_str());
        let (applied, sent) = tokio::join!(
            t.store.apply_status(&acme, &delivered),
            t.store
                .mark_sent(&acme, &id, &wamid, T0 + Duration::seconds(1)),
        );
        applied.unwrap();
        sent.unwrap();
        let m = message(&t, &acme, &id).await;
        assert_eq!(m.status, MessageStatus::Delivered, "round {round}");
        assert_eq!(m.delivered_at, Some(delivered.at), "round {round}");
    }
}

/// The narrow race: the status finds no pointer, then `mark_sent` runs start to finish (and
/// finds no pending status), then the status is kept as pending. Only apply_status's second look
/// at the pointer saves it; this fixes that interleaving with a gate on the status's requests.
#[tokio::test]
async fn a_status_kept_just_after_mark_sent_looked_is_applied_by_its_own_recheck() {
    let t = table("status-recheck").await;
    let acme = tenant("acme");
    let id = queued(&t, &acme, "msg_recheck").await;
    let gate = Gate::new(1);
    let status_store = t.gated_store(gate.clone()).await;
    let delivered = status(
        "wamid.recheck",
        MessageStatus::Delivered,
        T0 + Duration::seconds(2),
    );

    let applying = tokio::spawn({
        let acme = acme.clone();
        let delivered = delivered.clone();
        async move { status_store.apply_status(&acme, &delivered).await }
    });
    // The pointer lookup went through and missed; the pending write waits at the gate.
    gate.wait_for_arrivals(2).await;
    t.store
        .mark_sent(
            &acme,
            &id,
            &Wamid::from("wamid.recheck"),
            T0 + Duration::seconds(1),
        )
        .await
        .unwrap();
    assert_eq!(message(&t, &acme, &id).await.status, MessageStatus::Sent);
    gate.open();

    assert_eq!(applying.await.unwrap().unwrap(), StatusApplied::Advanced);
    let m = message(&t, &acme, &id).await;
    assert_eq!(m.status, MessageStatus::Delivered);
    assert_eq!(m.delivered_at, Some(delivered.at));
    assert_eq!(
        t.partition("T#acme#WAMID#wamid.recheck").await.len(),
        1,
        "pending record left behind"
    );
}
