use crate::common::{T0, pnid, table, tenant};
use std::collections::BTreeSet;
use switchboard_domain::throughput::SendPace;
use switchboard_store::SendSlot;
use time::{Duration, OffsetDateTime};

fn granted(slot: SendSlot) -> OffsetDateTime {
    match slot {
        SendSlot::Granted { at } => at,
        SendSlot::Full { retry_at } => panic!("no slot; retry at {retry_at}"),
    }
}

#[tokio::test]
async fn slots_follow_each_other_at_the_numbers_rate() {
    let t = table("send-pace").await;
    let acme = tenant("acme");
    let pace = SendPace::new(20);
    let wait = Duration::seconds(2);
    let mut slots = Vec::new();
    for i in 0..5 {
        slots.push(granted(
            t.store
                .reserve_send_slot(&acme, &pnid(), pace, i, T0, wait)
                .await
                .unwrap(),
        ));
    }
    let expected: Vec<_> = (0..5)
        .map(|i| T0 + Duration::milliseconds(50 * i))
        .collect();
    assert_eq!(slots, expected);

    // Idle again once the reserved slots have passed: the next send goes at once.
    let later = T0 + Duration::seconds(10);
    let slot = t
        .store
        .reserve_send_slot(&acme, &pnid(), pace, 0, later, wait)
        .await
        .unwrap();
    assert_eq!(slot, SendSlot::Granted { at: later });
}

#[tokio::test]
async fn concurrent_reservations_never_share_or_crowd_a_slot() {
    let t = table("send-pace-concurrent").await;
    let acme = tenant("acme");
    let pace = SendPace::new(80);
    let mut tasks = Vec::new();
    for i in 0..40u64 {
        let store = t.store.clone();
        let acme = acme.clone();
        tasks.push(tokio::spawn(async move {
            store
                .reserve_send_slot(&acme, &pnid(), pace, i, T0, Duration::seconds(5))
                .await
        }));
    }
    let mut slots = BTreeSet::new();
    for task in tasks {
        let at = granted(task.await.unwrap().unwrap());
        assert!(slots.insert(at), "slot {at} granted twice");
    }
    let slots: Vec<_> = slots.into_iter().collect();
    assert_eq!(slots[0], T0);
    for pair in slots.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::microseconds(12_500),
            "{} and {} are closer than the rate allows",
            pair[0],
            pair[1]
        );
    }
}

#[tokio::test]
async fn a_number_booked_beyond_the_wait_says_when_to_come_back() {
    let t = table("send-pace-full").await;
    let acme = tenant("acme");
    let pace = SendPace::new(1);
    let wait = Duration::seconds(2);
    for _ in 0..3 {
        granted(
            t.store
                .reserve_send_slot(&acme, &pnid(), pace, 0, T0, wait)
                .await
                .unwrap(),
        );
    }
    // Slots at T0, T0+1 s, T0+2 s are taken; the next is at T0+3 s, a second past the wait.
    let full = t
        .store
        .reserve_send_slot(&acme, &pnid(), pace, 0, T0, wait)
        .await
        .unwrap();
    assert_eq!(
        full,
        SendSlot::Full {
            retry_at: T0 + Duration::seconds(1)
        }
    );
    // Nothing was reserved by the refusal: coming back then gets exactly that slot.
    let back = T0 + Duration::seconds(1);
    assert_eq!(
        granted(
            t.store
                .reserve_send_slot(&acme, &pnid(), pace, 0, back, wait)
                .await
                .unwrap()
        ),
        T0 + Duration::seconds(3)
    );
}

#[tokio::test]
async fn a_hold_delays_every_later_slot_and_other_tenants_are_apart() {
    let t = table("send-pace-hold").await;
    let acme = tenant("acme");
    let pace = SendPace::new(20);
    let wait = Duration::seconds(5);
    let until = T0 + Duration::seconds(1);
    t.store
        .hold_sends(&acme, &pnid(), pace, until)
        .await
        .unwrap();
    let slot = granted(
        t.store
            .reserve_send_slot(&acme, &pnid(), pace, 0, T0, wait)
            .await
            .unwrap(),
    );
    assert_eq!(slot, until);
    // A hold never pulls slots back in time.
    t.store.hold_sends(&acme, &pnid(), pace, T0).await.unwrap();
    let next = granted(
        t.store
            .reserve_send_slot(&acme, &pnid(), pace, 0, T0, wait)
            .await
            .unwrap(),
    );
    assert_eq!(next, until + Duration::milliseconds(50));
    // Another tenant's pace for a number of the same id is its own.
    let other = granted(
        t.store
            .reserve_send_slot(&tenant("globex"), &pnid(), pace, 0, T0, wait)
            .await
            .unwrap(),
    );
    assert_eq!(other, T0);
}
