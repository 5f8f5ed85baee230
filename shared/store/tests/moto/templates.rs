//! Templates: each kind of Meta report ordered by its own time, reports about another
//! template of the same name ignored, the creation answer never undoing a webhook, lookups by
//! name and status, and the WABA index the sync walks.

use crate::common::{T0, cursors, table, tenant};
use switchboard_domain::TenantId;
use switchboard_store::{
    SUBMITTING_STATUS, Store, TemplateChange, TemplateRecord, TemplateSubmitted, WabaRoute,
};
use time::Duration;

const WABA: &str = "102290129340398";

fn template(name: &str, language: &str, status: &str, id: Option<&str>) -> TemplateRecord {
    TemplateRecord {
        waba_id: WABA.into(),
        name: name.into(),
        language: language.into(),
        template_id: id.map(str::to_owned),
        category: "UTILITY".into(),
        status: status.into(),
        reason: None,
        quality: None,
        components_json: r#"[{"type":"BODY","text":"Hi {{1}}"}]"#.into(),
        created_at: T0,
        status_at: None,
        category_at: None,
        quality_at: None,
        created_by: None,
    }
}

async fn stored(store: &Store, t: &TenantId, name: &str, language: &str) -> TemplateRecord {
    store
        .get_template(t, WABA, name, language)
        .await
        .unwrap()
        .expect("stored")
}

fn status(s: &str) -> TemplateChange {
    TemplateChange {
        template_id: Some("7".into()),
        status: Some(s.into()),
        ..TemplateChange::default()
    }
}

#[tokio::test]
async fn status_category_and_quality_each_keep_their_own_order() {
    let t = table("tpl-order").await;
    let acme = tenant("acme");
    let store = &t.store;
    store
        .put_template(
            &acme,
            &template("order_update", "en_US", "PENDING", Some("7")),
            false,
        )
        .await
        .unwrap();
    let at = |minutes| T0 + Duration::minutes(minutes);
    let apply = |change: TemplateChange, at| {
        let acme = acme.clone();
        async move {
            store
                .apply_template_change(&acme, WABA, "order_update", "en_US", &change, at)
                .await
                .unwrap()
        }
    };
    assert!(apply(status("PAUSED"), at(5)).await);
    // A quality report older than the pause is still the newest quality report.
    let quality = TemplateChange {
        template_id: Some("7".into()),
        quality: Some("RED".into()),
        ..TemplateChange::default()
    };
    assert!(apply(quality, at(1)).await);
    // The approval before the pause arrives late: ignored.
    assert!(!apply(status("APPROVED"), at(3)).await);
    let now = stored(store, &acme, "order_update", "en_US").await;
    assert_eq!(
        (now.status.as_str(), now.quality.as_deref()),
        ("PAUSED", Some("RED"))
    );
    assert_eq!(now.status_at, Some(at(5)));
    assert_eq!(now.quality_at, Some(at(1)));
    // The same moment again applies (Meta's times are whole seconds).
    assert!(apply(status("DISABLED"), at(5)).await);

    // A report about another template of the name (another id) is not this one's.
    let other = TemplateChange {
        template_id: Some("8".into()),
        status: Some("APPROVED".into()),
        ..TemplateChange::default()
    };
    assert!(!apply(other, at(60)).await);
    assert_eq!(
        stored(store, &acme, "order_update", "en_US").await.status,
        "DISABLED"
    );
}

#[tokio::test]
async fn the_creation_answer_never_undoes_a_webhook() {
    let t = table("tpl-submit").await;
    let acme = tenant("acme");
    let store = &t.store;
    let answer = TemplateSubmitted {
        template_id: "7".into(),
        status: "PENDING".into(),
        category: "MARKETING".into(),
    };
    // Meta answered before any webhook: its answer is recorded whole.
    store
        .put_template(
            &acme,
            &template("quick", "en", SUBMITTING_STATUS, None),
            false,
        )
        .await
        .unwrap();
    store
        .record_template_submitted(&acme, WABA, "quick", "en", &answer)
        .await
        .unwrap();
    let quick = stored(store, &acme, "quick", "en").await;
    assert_eq!(
        (
            quick.template_id.as_deref(),
            quick.status.as_str(),
            quick.category.as_str()
        ),
        (Some("7"), "PENDING", "MARKETING")
    );

    // The approval webhook came first (it takes the id); the answer only adds nothing.
    store
        .put_template(
            &acme,
            &template("slow", "en", SUBMITTING_STATUS, None),
            false,
        )
        .await
        .unwrap();
    assert!(
        store
            .apply_template_change(&acme, WABA, "slow", "en", &status("APPROVED"), T0)
            .await
            .unwrap()
    );
    store
        .record_template_submitted(&acme, WABA, "slow", "en", &answer)
        .await
        .unwrap();
    let slow = stored(store, &acme, "slow", "en").await;
    assert_eq!(
        (slow.template_id.as_deref(), slow.status.as_str()),
        (Some("7"), "APPROVED")
    );

    // Conditional replace and delete act only on the record as read.
    let resubmission = template("slow", "en", SUBMITTING_STATUS, None);
    assert!(
        !store
            .replace_template_if(&acme, &resubmission, "DELETED", Some("7"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_template_if(&acme, &template("slow", "en", "APPROVED", Some("9")))
            .await
            .unwrap()
    );
    assert!(store.delete_template_if(&acme, &slow).await.unwrap());
    assert!(
        store
            .get_template(&acme, WABA, "slow", "en")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn templates_are_found_by_name_and_status_in_their_tenant_only() {
    let t = table("tpl-find").await;
    let (acme, globex) = (tenant("acme"), tenant("globex"));
    let store = &t.store;
    let long_name = "a".repeat(512);
    for (name, language, status) in [
        ("order", "en_US", "APPROVED"),
        ("order_update", "en_US", "APPROVED"),
        ("order_update", "de", "PENDING"),
        ("order_update", "en", "REJECTED"),
        (long_name.as_str(), "en", "PENDING"),
    ] {
        assert!(
            store
                .put_template(&acme, &template(name, language, status, Some("1")), false)
                .await
                .unwrap()
        );
    }
    store
        .put_template(
            &globex,
            &template("order_update", "fr", "APPROVED", Some("2")),
            false,
        )
        .await
        .unwrap();

    let languages = |found: Vec<TemplateRecord>| -> Vec<String> {
        found.into_iter().map(|t| t.language).collect()
    };
    assert_eq!(
        languages(
            store
                .find_templates_by_name(&acme, "order_update", None)
                .await
                .unwrap()
        ),
        ["de", "en", "en_US"]
    );
    assert_eq!(
        languages(
            store
                .find_templates_by_name(&acme, "order", None)
                .await
                .unwrap()
        ),
        ["en_US"],
        "a name is not a prefix of longer names"
    );
    assert_eq!(
        languages(
            store
                .find_templates_by_name(&acme, "order_update", Some("en"))
                .await
                .unwrap()
        ),
        ["en"],
        "a language is not a prefix of longer ones"
    );
    assert_eq!(
        languages(
            store
                .find_templates_by_name(&globex, "order_update", None)
                .await
                .unwrap()
        ),
        ["fr"]
    );
    assert_eq!(
        store
            .find_templates_by_name(&acme, &long_name, None)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .put_template(
                &acme,
                &template(&"a".repeat(513), "en", "PENDING", None),
                false
            )
            .await
            .is_err(),
        "Meta's limit is the store's"
    );

    let approved = store
        .list_templates_with_status(&acme, Some("APPROVED"), 100, None, cursors())
        .await
        .unwrap();
    let names: Vec<_> = approved.items.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["order", "order_update"]);
    // Pages of a filtered listing: short pages, every match once.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_templates_with_status(&acme, Some("APPROVED"), 1, cursor.as_deref(), cursors())
            .await
            .unwrap();
        seen.extend(page.items.into_iter().map(|t| t.name));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ["order", "order_update"]);
    // A cursor of the unfiltered listing is not one of the filtered listing.
    let unfiltered = store
        .list_templates(&acme, 1, None, cursors())
        .await
        .unwrap();
    assert!(
        store
            .list_templates_with_status(
                &acme,
                Some("APPROVED"),
                1,
                unfiltered.next_cursor.as_deref(),
                cursors()
            )
            .await
            .is_err()
    );
}

#[tokio::test]
async fn every_connected_waba_is_listed_once_with_its_tenant() {
    let t = table("tpl-wabas").await;
    let store = &t.store;
    for (waba, owner) in [("300", "globex"), ("100", "acme"), ("200", "acme")] {
        assert!(
            store
                .put_waba_route(&WabaRoute {
                    waba_id: waba.into(),
                    tenant_id: tenant(owner),
                })
                .await
                .unwrap()
        );
    }
    let mut listed = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_waba_routes(2, cursor.as_deref(), cursors())
            .await
            .unwrap();
        listed.extend(
            page.items
                .into_iter()
                .map(|r| (r.waba_id, r.tenant_id.as_str().to_owned())),
        );
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(
        listed,
        [
            ("100".to_owned(), "acme".to_owned()),
            ("200".to_owned(), "acme".to_owned()),
            ("300".to_owned(), "globex".to_owned()),
        ]
    );
    store
        .delete_waba_route(&tenant("acme"), "200")
        .await
        .unwrap();
    let page = store.list_waba_routes(10, None, cursors()).await.unwrap();
    assert_eq!(page.items.len(), 2);
}
