use crate::common::{T0, table, tenant};
use aws_sdk_dynamodb::types::AttributeValue;
use switchboard_domain::TenantSettings;
use switchboard_domain::tenant_settings::{TimeOfDay, Timezone};
use switchboard_store::{StoreError, Suspension, Tenant};
use time::Duration;

#[tokio::test]
async fn settings_are_written_only_over_the_version_that_was_read() {
    let t = table("tenant-settings").await;
    let acme = Tenant::new(tenant("acme"), "Acme", T0);
    t.store.put_tenant(&acme).await.unwrap();
    let read = t.store.get_tenant(&acme.id).await.unwrap().unwrap();
    assert_eq!(read.settings, TenantSettings::default());

    let mut settings = read.settings.clone();
    settings.timezone = Timezone::parse("Europe/Berlin").unwrap();
    settings.marketing.quiet_hours.start = TimeOfDay::hm(22, 0);
    let t1 = T0 + Duration::minutes(1);
    let updated = t
        .store
        .update_tenant_settings(&read, "Acme GmbH", &settings, t1)
        .await
        .unwrap();
    assert_eq!(updated.updated_at, t1);
    assert_eq!(
        t.store.get_tenant(&acme.id).await.unwrap(),
        Some(updated.clone())
    );

    // A second writer still holding the first read loses, and changes nothing.
    let mut other = read.settings.clone();
    other.retention_months = 24;
    let err = t
        .store
        .update_tenant_settings(&read, "Acme", &other, T0 + Duration::minutes(2))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Contended { .. }), "{err}");
    assert_eq!(
        t.store.get_tenant(&acme.id).await.unwrap(),
        Some(updated.clone())
    );

    // A tenant that does not exist is not created by an update.
    let ghost = Tenant::new(tenant("ghost"), "Ghost", T0);
    let err = t
        .store
        .update_tenant_settings(&ghost, "Ghost", &other, t1)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Contended { .. }), "{err}");
    assert_eq!(t.store.get_tenant(&ghost.id).await.unwrap(), None);
}

#[tokio::test]
async fn a_tenant_written_before_settings_existed_reads_with_defaults_and_updates() {
    let t = table("tenant-legacy").await;
    // As the first version wrote it: no settings, no updated_at.
    let item = [
        ("pk", "T#old"),
        ("sk", "TENANT"),
        ("entity", "tenant"),
        ("id", "old"),
        ("name", "Old Ltd"),
        ("created_at", "2026-11-01T10:00:00.000000Z"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), AttributeValue::S(v.to_owned())))
    .collect();
    t.client
        .put_item()
        .table_name(&t.name)
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
    let old = t.store.get_tenant(&tenant("old")).await.unwrap().unwrap();
    assert_eq!(old.updated_at, T0);
    assert_eq!(old.settings, TenantSettings::default());
    assert_eq!(old.suspension, None);

    let mut settings = old.settings.clone();
    settings.ai_enabled = true;
    let updated = t
        .store
        .update_tenant_settings(&old, &old.name, &settings, T0 + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(
        t.store.get_tenant(&tenant("old")).await.unwrap(),
        Some(updated)
    );
}

#[tokio::test]
async fn suspension_is_set_and_lifted_and_leaves_the_settings_alone() {
    let t = table("tenant-suspension").await;
    let mut acme = Tenant::new(tenant("acme"), "Acme", T0);
    acme.settings.retention_months = 36;
    t.store.put_tenant(&acme).await.unwrap();
    assert_eq!(t.store.tenant_suspension(&acme.id).await.unwrap(), None);

    let t1 = T0 + Duration::minutes(5);
    let suspension = Suspension {
        reason: "Spam reports under review".into(),
        at: t1,
        by: "operator".into(),
    };
    let suspended = t
        .store
        .set_suspension(&acme.id, Some(&suspension), t1)
        .await
        .unwrap();
    assert_eq!(suspended.suspension.as_ref(), Some(&suspension));
    assert_eq!(suspended.settings.retention_months, 36);
    assert_eq!(suspended.updated_at, t1);
    assert_eq!(
        t.store.tenant_suspension(&acme.id).await.unwrap(),
        Some(suspension)
    );

    // A settings writer that read before the suspension must read again, and keeps it.
    let err = t
        .store
        .update_tenant_settings(&acme, "Acme", &acme.settings, t1)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Contended { .. }), "{err}");
    let reread = t.store.get_tenant(&acme.id).await.unwrap().unwrap();
    let renamed = t
        .store
        .update_tenant_settings(
            &reread,
            "Acme Two",
            &reread.settings,
            t1 + Duration::seconds(1),
        )
        .await
        .unwrap();
    assert!(renamed.suspension.is_some());
    assert_eq!(t.store.get_tenant(&acme.id).await.unwrap(), Some(renamed));

    let resumed = t
        .store
        .set_suspension(&acme.id, None, t1 + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(resumed.suspension, None);
    assert_eq!(resumed.name, "Acme Two");
    assert_eq!(t.store.tenant_suspension(&acme.id).await.unwrap(), None);

    let err = t
        .store
        .set_suspension(&tenant("nobody"), None, t1)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { what: "tenant" }),
        "{err}"
    );
    assert_eq!(t.store.get_tenant(&tenant("nobody")).await.unwrap(), None);
    assert_eq!(
        t.store.tenant_suspension(&tenant("nobody")).await.unwrap(),
        None
    );
}
