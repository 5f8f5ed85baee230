//! Phone routes change owner only by conditional writes: created only where no tenant holds
//! the number, moved only from the owner the caller names.

use crate::common::{T0, TestTable, pnid, table, tenant};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use switchboard_domain::{PhoneNumberId, TenantId};
use switchboard_store::{PhoneRoute, StoreError, Tenant};

const ROUTE_PK: &str = "PHONE#106540352242922";

fn route(owner: &str) -> PhoneRoute {
    PhoneRoute {
        phone_number_id: pnid(),
        tenant_id: tenant(owner),
        waba_id: "102290129340398".into(),
        display_phone_number: "15550783881".into(),
        messages_per_second: None,
    }
}

async fn with_tenants(label: &str, ids: &[&str]) -> TestTable {
    let t = table(label).await;
    for id in ids {
        t.store
            .put_tenant(&Tenant::new(tenant(id), format!("{id} Ltd"), T0))
            .await
            .unwrap();
    }
    t
}

/// The one route item, read around the store.
async fn route_item(t: &TestTable) -> HashMap<String, AttributeValue> {
    let mut items = t.partition(ROUTE_PK).await;
    assert_eq!(items.len(), 1, "exactly one route item: {items:?}");
    items.remove(0)
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<i64> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse().ok(),
        _ => None,
    }
}

fn string<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> Option<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v),
        _ => None,
    }
}

/// How many numbers the tenant's index partition lists.
async fn numbers_of(t: &TestTable, owner: &str) -> usize {
    t.client
        .query()
        .table_name(&t.name)
        .index_name("gsi1")
        .key_condition_expression("gsi1pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("T#{owner}#PHONES")))
        .send()
        .await
        .expect("query gsi1")
        .items
        .unwrap_or_default()
        .len()
}

fn owner_of(err: &StoreError) -> Option<Option<&str>> {
    match err {
        StoreError::PhoneRouteOwner {
            phone_number_id,
            current_owner,
        } => {
            assert_eq!(phone_number_id, &pnid());
            Some(current_owner.as_ref().map(TenantId::as_str))
        }
        _ => None,
    }
}

#[tokio::test]
async fn a_route_is_created_only_where_no_other_tenant_holds_the_number() {
    let t = table("routes-create").await;
    t.store.put_phone_route(&route("acme")).await.unwrap();
    // The owner may refresh its details; that is not a move.
    let renamed = PhoneRoute {
        display_phone_number: "15550783882".into(),
        ..route("acme")
    };
    t.store.put_phone_route(&renamed).await.unwrap();
    assert_eq!(
        t.store.find_phone_route(&pnid()).await.unwrap(),
        Some(renamed.clone())
    );

    let err = t.store.put_phone_route(&route("globex")).await.unwrap_err();
    assert_eq!(owner_of(&err), Some(Some("acme")), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(
        t.store.find_phone_route(&pnid()).await.unwrap(),
        Some(renamed)
    );
    let item = route_item(&t).await;
    assert_eq!(number(&item, "version"), Some(1), "never moved: {item:?}");
    assert_eq!(string(&item, "moved_at"), None);
    assert_eq!(string(&item, "entity"), Some("phone_route"));
    assert_eq!(numbers_of(&t, "acme").await, 1);
    assert_eq!(numbers_of(&t, "globex").await, 0);
    assert_eq!(t.all_items().await.len(), 1);
}

#[tokio::test]
async fn a_move_from_the_current_owner_hands_the_number_over() {
    let t = with_tenants("routes-move", &["acme", "globex"]).await;
    t.store.put_phone_route(&route("acme")).await.unwrap();

    let moved = t
        .store
        .move_phone_route(&pnid(), &tenant("acme"), &tenant("globex"), T0)
        .await
        .unwrap();
    assert_eq!(moved, route("globex"));
    assert_eq!(
        t.store.find_phone_route(&pnid()).await.unwrap(),
        Some(route("globex"))
    );
    let item = route_item(&t).await;
    assert_eq!(number(&item, "version"), Some(2), "{item:?}");
    assert_eq!(
        string(&item, "moved_at"),
        Some("2026-11-01T10:00:00.000000Z")
    );
    assert_eq!(string(&item, "gsi1pk"), Some("T#globex#PHONES"));
    assert_eq!(numbers_of(&t, "acme").await, 0);
    assert_eq!(numbers_of(&t, "globex").await, 1);

    // The old owner can no longer re-create it, and the new owner refreshes it in place.
    let err = t.store.put_phone_route(&route("acme")).await.unwrap_err();
    assert_eq!(owner_of(&err), Some(Some("globex")), "{err:?}");
    t.store.put_phone_route(&route("globex")).await.unwrap();
    assert_eq!(number(&route_item(&t).await, "version"), Some(2));
    // Moving back is a move like any other.
    t.store
        .move_phone_route(&pnid(), &tenant("globex"), &tenant("acme"), T0)
        .await
        .unwrap();
    assert_eq!(number(&route_item(&t).await, "version"), Some(3));
    // Two tenants, one route.
    assert_eq!(t.all_items().await.len(), 3);
}

#[tokio::test]
async fn a_move_naming_the_wrong_owner_changes_nothing() {
    let t = with_tenants("routes-wrong-owner", &["acme", "globex", "initech"]).await;
    t.store.put_phone_route(&route("acme")).await.unwrap();
    let before = route_item(&t).await;

    // Someone who is not the owner.
    let err = t
        .store
        .move_phone_route(&pnid(), &tenant("initech"), &tenant("globex"), T0)
        .await
        .unwrap_err();
    assert_eq!(owner_of(&err), Some(Some("acme")), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(route_item(&t).await, before);

    // A move decided on a stale read: the number moved in between.
    t.store
        .move_phone_route(&pnid(), &tenant("acme"), &tenant("globex"), T0)
        .await
        .unwrap();
    let err = t
        .store
        .move_phone_route(&pnid(), &tenant("acme"), &tenant("initech"), T0)
        .await
        .unwrap_err();
    assert_eq!(owner_of(&err), Some(Some("globex")), "{err:?}");
    // A retry of a move that went through sees the new owner.
    let err = t
        .store
        .move_phone_route(&pnid(), &tenant("acme"), &tenant("globex"), T0)
        .await
        .unwrap_err();
    assert_eq!(owner_of(&err), Some(Some("globex")), "{err:?}");
    let item = route_item(&t).await;
    assert_eq!(string(&item, "tenant_id"), Some("globex"));
    assert_eq!(number(&item, "version"), Some(2), "one move: {item:?}");
    // Moving to the owner itself is no move.
    let same = t
        .store
        .move_phone_route(&pnid(), &tenant("globex"), &tenant("globex"), T0)
        .await
        .unwrap();
    assert_eq!(same, route("globex"));
    assert_eq!(number(&route_item(&t).await, "version"), Some(2));
}

#[tokio::test]
async fn racing_moves_of_one_number_have_one_winner() {
    let t = with_tenants("routes-race", &["acme", "globex", "initech"]).await;
    t.store.put_phone_route(&route("acme")).await.unwrap();
    let (phone, acme, globex, initech) =
        (pnid(), tenant("acme"), tenant("globex"), tenant("initech"));
    let (to_globex, to_initech) = tokio::join!(
        t.store.move_phone_route(&phone, &acme, &globex, T0),
        t.store.move_phone_route(&phone, &acme, &initech, T0),
    );
    let (winner, loser) = match (to_globex, to_initech) {
        (Ok(_), Err(e)) => ("globex", e),
        (Err(e), Ok(_)) => ("initech", e),
        other => panic!("exactly one move wins: {other:?}"),
    };
    assert_eq!(owner_of(&loser), Some(Some(winner)), "{loser:?}");
    let item = route_item(&t).await;
    assert_eq!(string(&item, "tenant_id"), Some(winner));
    assert_eq!(number(&item, "version"), Some(2));
    assert_eq!(numbers_of(&t, winner).await, 1);
    assert_eq!(numbers_of(&t, "acme").await, 0);
}

#[tokio::test]
async fn an_unrouted_number_or_an_unknown_tenant_is_never_moved_to() {
    let t = with_tenants("routes-absent", &["acme", "globex"]).await;
    let err = t
        .store
        .move_phone_route(&pnid(), &tenant("acme"), &tenant("globex"), T0)
        .await
        .unwrap_err();
    assert_eq!(owner_of(&err), Some(None), "{err:?}");
    assert!(t.partition(ROUTE_PK).await.is_empty(), "no route created");

    t.store.put_phone_route(&route("acme")).await.unwrap();
    let err = t
        .store
        .move_phone_route(&pnid(), &tenant("acme"), &tenant("nobody"), T0)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    assert_eq!(
        t.store.find_phone_route(&pnid()).await.unwrap(),
        Some(route("acme"))
    );
    assert_eq!(
        t.store
            .find_phone_route(&PhoneNumberId::from("1"))
            .await
            .unwrap(),
        None
    );
    // Two tenants and the one route.
    assert_eq!(t.all_items().await.len(), 3);
}
