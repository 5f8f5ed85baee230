use crate::common::{T0, pnid, table, tenant};
use switchboard_domain::PhoneNumberId;
use switchboard_store::{ApiKeyRecord, PhoneRoute, StoreError, Tenant};

fn hash(byte: &str) -> String {
    byte.repeat(64)
}

#[tokio::test]
async fn tenants_routes_and_api_keys_round_trip() {
    let t = table("directory").await;
    let acme = Tenant {
        id: tenant("acme"),
        name: "Acme Ltd".into(),
        created_at: T0,
    };
    t.store.put_tenant(&acme).await.unwrap();
    assert_eq!(
        t.store.get_tenant(&acme.id).await.unwrap(),
        Some(acme.clone())
    );
    assert_eq!(t.store.get_tenant(&tenant("nobody")).await.unwrap(), None);

    let route = PhoneRoute {
        phone_number_id: pnid(),
        tenant_id: acme.id.clone(),
        waba_id: "102290129340398".into(),
        display_phone_number: "15550783881".into(),
    };
    t.store.put_phone_route(&route).await.unwrap();
    assert_eq!(
        t.store.find_phone_route(&pnid()).await.unwrap(),
        Some(route)
    );
    assert_eq!(
        t.store
            .find_phone_route(&PhoneNumberId::from("1"))
            .await
            .unwrap(),
        None
    );

    let key = ApiKeyRecord {
        key_hash: hash("a"),
        tenant_id: acme.id.clone(),
        name: "backend".into(),
        created_at: T0,
    };
    t.store.put_api_key(&key).await.unwrap();
    t.store.put_api_key(&key).await.unwrap();
    assert_eq!(
        t.store.find_api_key(&hash("a")).await.unwrap(),
        Some(key.clone())
    );
    assert_eq!(t.store.find_api_key(&hash("b")).await.unwrap(), None);

    let stolen = ApiKeyRecord {
        tenant_id: tenant("globex"),
        ..key
    };
    assert!(matches!(
        t.store.put_api_key(&stolen).await.unwrap_err(),
        StoreError::InvalidKey { .. }
    ));
    assert_eq!(
        t.store
            .find_api_key(&hash("a"))
            .await
            .unwrap()
            .unwrap()
            .tenant_id,
        acme.id
    );
}

#[tokio::test]
async fn a_raw_api_key_is_never_stored() {
    let t = table("directory-raw-key").await;
    let raw = ApiKeyRecord {
        key_hash: "sb_live_3f9a0c1d".into(),
        tenant_id: tenant("acme"),
        name: "oops".into(),
        created_at: T0,
    };
    assert!(matches!(
        t.store.put_api_key(&raw).await.unwrap_err(),
        StoreError::InvalidKey { .. }
    ));
    assert!(t.all_items().await.is_empty());
}
