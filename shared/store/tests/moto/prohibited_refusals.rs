use crate::common::{T0, table, tenant};
use aws_sdk_dynamodb::types::AttributeValue;
use switchboard_store::{
    MARKETING_SUSPENDED_PROHIBITED_CONTENT, MARKETING_SUSPENDED_TEMPLATE_QUALITY_RED,
    PROHIBITED_REFUSALS_BEFORE_SUSPENSION, PROHIBITED_REFUSALS_RETENTION, StoreError, Tenant,
};
use time::Duration;

#[tokio::test]
async fn refusals_are_counted_over_the_last_24_hours_per_tenant() {
    let t = table("prohibited-refusals").await;
    let acme = tenant("acme");
    let globex = tenant("globex");

    // Spread over a day: each is counted, whatever hour it fell in.
    assert_eq!(
        t.store.record_prohibited_refusal(&acme, T0).await.unwrap(),
        1
    );
    let later = T0 + Duration::hours(5);
    assert_eq!(
        t.store
            .record_prohibited_refusal(&acme, later)
            .await
            .unwrap(),
        2
    );
    let later = T0 + Duration::hours(23);
    assert_eq!(
        t.store
            .record_prohibited_refusal(&acme, later)
            .await
            .unwrap(),
        3
    );
    // Another tenant's refusals are its own.
    assert_eq!(
        t.store
            .record_prohibited_refusal(&globex, later)
            .await
            .unwrap(),
        1
    );
    assert_eq!(t.store.prohibited_refusals(&acme, later).await.unwrap(), 3);

    // A day and more on, the first hours have left the window.
    let next_day = T0 + Duration::hours(25);
    assert_eq!(
        t.store.prohibited_refusals(&acme, next_day).await.unwrap(),
        2
    );
    assert_eq!(
        t.store
            .prohibited_refusals(&acme, T0 + Duration::hours(48))
            .await
            .unwrap(),
        0
    );

    // Concurrent refusals are all counted.
    let at = T0 + Duration::days(10);
    let counts = futures_join(&t.store, &acme, at).await;
    assert_eq!(counts, 8);
    assert_eq!(t.store.prohibited_refusals(&acme, at).await.unwrap(), 8);

    // Each hour item expires after the window.
    let items = t.partition("T#acme#PROHIBITED").await;
    assert!(!items.is_empty());
    for item in &items {
        let Some(AttributeValue::N(ttl)) = item.get("expires_at") else {
            panic!("no expiry: {item:?}");
        };
        let ttl: i64 = ttl.parse().unwrap();
        assert!(ttl > T0.unix_timestamp());
        assert!(ttl <= (T0 + Duration::days(10) + PROHIBITED_REFUSALS_RETENTION).unix_timestamp());
    }
}

async fn futures_join(
    store: &switchboard_store::Store,
    tenant: &switchboard_domain::TenantId,
    at: time::OffsetDateTime,
) -> i64 {
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let tenant = tenant.clone();
        tasks.push(tokio::spawn(async move {
            store.record_prohibited_refusal(&tenant, at).await.unwrap()
        }));
    }
    let mut max = 0;
    for task in tasks {
        max = max.max(task.await.unwrap());
    }
    max
}

#[tokio::test]
async fn the_threshold_suspends_marketing_once_and_the_operator_lifts_it() {
    let t = table("marketing-suspension").await;
    let acme = Tenant::new(tenant("acme"), "Acme", T0);
    t.store.put_tenant(&acme).await.unwrap();

    for n in 1..PROHIBITED_REFUSALS_BEFORE_SUSPENSION {
        let at = T0 + Duration::minutes(n);
        assert!(
            !t.store
                .count_prohibited_refusal(&acme.id, at)
                .await
                .unwrap()
        );
    }
    let read = t.store.get_tenant(&acme.id).await.unwrap().unwrap();
    assert_eq!(read.marketing_suspension, None);

    let at = T0 + Duration::minutes(PROHIBITED_REFUSALS_BEFORE_SUSPENSION);
    assert!(
        t.store
            .count_prohibited_refusal(&acme.id, at)
            .await
            .unwrap()
    );
    let held = t.store.get_tenant(&acme.id).await.unwrap().unwrap();
    let suspension = held.marketing_suspension.clone().expect("suspended");
    assert_eq!(suspension.reason, MARKETING_SUSPENDED_PROHIBITED_CONTENT);
    assert_eq!(suspension.since, at);
    // The whole tenant is not suspended, and the settings are untouched.
    assert_eq!(held.suspension, None);
    assert_eq!(held.settings, acme.settings);

    // Idempotent: more refusals, or another reason, keep the first reason and time.
    let later = at + Duration::minutes(1);
    assert!(
        !t.store
            .count_prohibited_refusal(&acme.id, later)
            .await
            .unwrap()
    );
    assert!(
        !t.store
            .suspend_marketing(&acme.id, MARKETING_SUSPENDED_TEMPLATE_QUALITY_RED, later)
            .await
            .unwrap()
    );
    let still = t.store.get_tenant(&acme.id).await.unwrap().unwrap();
    assert_eq!(still.marketing_suspension, Some(suspension));
    assert_eq!(
        still.updated_at, at,
        "an idempotent suspension writes nothing"
    );

    // Resumed: gone; resuming again changes nothing.
    let resumed_at = later + Duration::minutes(1);
    let resumed = t
        .store
        .resume_marketing(&acme.id, resumed_at)
        .await
        .unwrap();
    assert_eq!(resumed.marketing_suspension, None);
    assert_eq!(resumed.updated_at, resumed_at);
    let again = t
        .store
        .resume_marketing(&acme.id, resumed_at + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(again, resumed);

    // A RED template suspends anew, with its own reason.
    let red_at = resumed_at + Duration::hours(1);
    assert!(
        t.store
            .suspend_marketing(&acme.id, MARKETING_SUSPENDED_TEMPLATE_QUALITY_RED, red_at)
            .await
            .unwrap()
    );
    let held = t.store.get_tenant(&acme.id).await.unwrap().unwrap();
    assert_eq!(
        held.marketing_suspension.map(|s| s.reason).as_deref(),
        Some(MARKETING_SUSPENDED_TEMPLATE_QUALITY_RED)
    );

    // A tenant that does not exist is neither created nor suspended.
    let ghost = tenant("ghost");
    let err = t
        .store
        .suspend_marketing(&ghost, MARKETING_SUSPENDED_PROHIBITED_CONTENT, T0)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    let err = t.store.resume_marketing(&ghost, T0).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    assert_eq!(t.store.get_tenant(&ghost).await.unwrap(), None);
}
