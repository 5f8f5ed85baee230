use crate::common::{T0, pnid, table, tenant};
use switchboard_domain::{ApiKeyId, PhoneNumberId, Scope};
use switchboard_store::{ApiKeyRecord, CursorCodec, PhoneRoute, StoreError, Tenant};
use time::Duration;

fn key_record(hash: String, tenant_id: switchboard_domain::TenantId) -> ApiKeyRecord {
    ApiKeyRecord {
        key_hash: hash,
        id: ApiKeyId::generate(),
        tenant_id,
        name: "backend".into(),
        scopes: vec![Scope::MessagesSend],
        prefix: "sk_live_abcd".into(),
        created_by: Some("user:usr_1".into()),
        created_at: T0,
        last_used_at: None,
        revoked_at: None,
    }
}

fn hash(byte: &str) -> String {
    byte.repeat(64)
}

#[tokio::test]
async fn tenants_routes_and_api_keys_round_trip() {
    let t = table("directory").await;
    let acme = Tenant::new(tenant("acme"), "Acme Ltd", T0);
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
        messages_per_second: None,
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

    let key = key_record(hash("a"), acme.id.clone());
    t.store.put_api_key(&key).await.unwrap();
    // A hash is registered once: never again, not even for the same tenant.
    assert!(matches!(
        t.store.put_api_key(&key).await.unwrap_err(),
        StoreError::InvalidKey { .. }
    ));
    assert_eq!(
        t.store.find_api_key(&hash("a")).await.unwrap(),
        Some(key.clone())
    );
    assert_eq!(t.store.find_api_key(&hash("b")).await.unwrap(), None);

    let stolen = ApiKeyRecord {
        tenant_id: tenant("globex"),
        ..key.clone()
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

    // Last use is recorded at most once per `LAST_USED_RESOLUTION`.
    t.store.touch_api_key(&hash("a"), T0).await.unwrap();
    t.store
        .touch_api_key(&hash("a"), T0 + Duration::seconds(30))
        .await
        .unwrap();
    let found = t.store.find_api_key(&hash("a")).await.unwrap().unwrap();
    assert_eq!(found.last_used_at, Some(T0));

    // Listed and revoked by id, only by its own tenant.
    let codec = CursorCodec::new(
        &switchboard_domain::Secret::new("0123456789abcdef0123456789abcdef"),
        CursorCodec::DEFAULT_TTL,
    )
    .unwrap();
    let listed = t
        .store
        .list_api_keys(&acme.id, 10, None, codec.at(T0))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert!(
        t.store
            .list_api_keys(&tenant("globex"), 10, None, codec.at(T0))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(matches!(
        t.store
            .revoke_api_key(&tenant("globex"), &key.id, T0)
            .await
            .unwrap_err(),
        StoreError::NotFound { .. }
    ));
    let revoked = t.store.revoke_api_key(&acme.id, &key.id, T0).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(T0));
    assert!(
        !t.store
            .find_api_key(&hash("a"))
            .await
            .unwrap()
            .unwrap()
            .is_active()
    );
}

#[tokio::test]
async fn a_raw_api_key_is_never_stored() {
    let t = table("directory-raw-key").await;
    let raw = key_record("sb_live_3f9a0c1d".into(), tenant("acme"));
    assert!(matches!(
        t.store.put_api_key(&raw).await.unwrap_err(),
        StoreError::InvalidKey { .. }
    ));
    assert!(t.all_items().await.is_empty());
}
