use crate::common::{T0, customer, inbound, outbound, table, tenant};
use switchboard_domain::consent::{
    ConsentProof, ConsentState, OptInOutcome, OptInSource, OptOutSource,
};
use switchboard_domain::{ContactId, MessageId, MessageStatus};
use switchboard_store::{
    ConsentChangeKind, DecisionOutcome, PolicyDecisionRecord, TemplateChange, TemplateRecord,
};
use time::Duration;

fn proof(text: &str) -> ConsentProof {
    ConsentProof {
        text: Some(text.into()),
        url: Some("https://shop.example/signup".into()),
        captured_at: Some("2026-10-30T09:00:00Z".into()),
        recorded_by: "user:usr_1".into(),
    }
}

#[tokio::test]
async fn an_opt_out_holds_against_every_declared_opt_in_and_only_the_customer_lifts_it() {
    let t = table("consent").await;
    let acme = tenant("acme");
    let ana = customer(1);

    let first = t
        .store
        .opt_in(
            &acme,
            &ana,
            OptInSource::WebForm,
            &proof("Yes, send me offers"),
            T0,
        )
        .await
        .unwrap();
    assert_eq!(first, OptInOutcome::OptedIn);
    let again = t
        .store
        .opt_in(
            &acme,
            &ana,
            OptInSource::Checkout,
            &proof("again"),
            T0 + Duration::minutes(1),
        )
        .await
        .unwrap();
    assert_eq!(again, OptInOutcome::AlreadyOptedIn);

    let contact = t.store.get_contact(&acme, &ana).await.unwrap().unwrap();
    assert_eq!(contact.id, ContactId::derive(&acme, &ana));
    assert_eq!(contact.consent.state, ConsentState::OptedIn);
    assert_eq!(contact.consent.source.as_deref(), Some("web_form"));
    assert_eq!(contact.consent.opted_in_at, Some(T0));
    assert_eq!(
        contact.last_inbound_at, None,
        "an imported contact has not written"
    );
    assert!(contact.consent.ever_opted_in);

    let out_at = T0 + Duration::hours(1);
    assert!(
        t.store
            .opt_out(&acme, &ana, OptOutSource::Keyword, "customer", out_at)
            .await
            .unwrap()
    );
    assert!(
        !t.store
            .opt_out(&acme, &ana, OptOutSource::Keyword, "customer", out_at)
            .await
            .unwrap(),
        "a second opt-out changes nothing"
    );
    for source in [
        OptInSource::Import,
        OptInSource::WebForm,
        OptInSource::InChat,
        OptInSource::Other,
    ] {
        let refused = t
            .store
            .opt_in(
                &acme,
                &ana,
                source,
                &proof("re-add"),
                out_at + Duration::minutes(1),
            )
            .await
            .unwrap();
        assert_eq!(refused, OptInOutcome::RefusedOptedOut, "{source}");
    }
    let contact = t.store.get_contact(&acme, &ana).await.unwrap().unwrap();
    assert_eq!(contact.consent.state, ConsentState::OptedOut);
    assert_eq!(contact.consent.opted_out_at, Some(out_at));
    assert_eq!(
        contact
            .consent
            .proof
            .as_ref()
            .and_then(|p| p.text.as_deref()),
        Some("Yes, send me offers"),
        "the opt-in's proof is kept after the opt-out"
    );

    let back = t
        .store
        .opt_in(
            &acme,
            &ana,
            OptInSource::Keyword,
            &ConsentProof {
                text: Some("START".into()),
                recorded_by: "customer".into(),
                ..ConsentProof::default()
            },
            out_at + Duration::hours(1),
        )
        .await
        .unwrap();
    assert_eq!(back, OptInOutcome::OptedIn);

    let history = t.store.consent_history(&acme, &ana).await.unwrap();
    let kinds: Vec<_> = history.iter().map(|c| c.change).collect();
    assert_eq!(
        kinds,
        [
            ConsentChangeKind::OptedIn,
            ConsentChangeKind::OptInRenewed,
            ConsentChangeKind::OptedOut,
            ConsentChangeKind::OptInRefused,
            ConsentChangeKind::OptInRefused,
            ConsentChangeKind::OptInRefused,
            ConsentChangeKind::OptInRefused,
            ConsentChangeKind::OptedIn,
        ]
    );
    assert_eq!(history[7].source, "keyword");

    // Consent is per tenant: another tenant's customer of the same number is untouched.
    let globex = tenant("globex");
    assert!(t.store.get_contact(&globex, &ana).await.unwrap().is_none());
}

#[tokio::test]
async fn a_stop_message_knows_its_own_opt_out_and_never_undoes_a_later_start() {
    let t = table("consent-by-message").await;
    let acme = tenant("acme");
    let ana = customer(7);
    let stop = MessageId::from("msg_0000000000000000000000000000a001");
    let stop_at = T0;

    assert!(
        t.store
            .opt_out_by_message(&acme, &ana, &stop, stop_at)
            .await
            .unwrap(),
        "the first delivery opts out"
    );
    assert!(
        t.store
            .opt_out_by_message(&acme, &ana, &stop, stop_at)
            .await
            .unwrap(),
        "a redelivery of the same message: its opt-out is the one in force"
    );
    let other = MessageId::from("msg_0000000000000000000000000000a002");
    assert!(
        !t.store
            .opt_out_by_message(&acme, &ana, &other, stop_at + Duration::seconds(1))
            .await
            .unwrap(),
        "a second STOP changes nothing and is not the opt-out in force"
    );
    let contact = t.store.get_contact(&acme, &ana).await.unwrap().unwrap();
    assert_eq!(contact.consent.opted_out_by.as_ref(), Some(&stop));

    // The customer writes START later; the first STOP delivered again does not undo it.
    let start = ConsentProof {
        recorded_by: "customer".into(),
        ..proof("START")
    };
    t.store
        .opt_in(
            &acme,
            &ana,
            OptInSource::Keyword,
            &start,
            stop_at + Duration::minutes(5),
        )
        .await
        .unwrap();
    assert!(
        !t.store
            .opt_out_by_message(&acme, &ana, &stop, stop_at)
            .await
            .unwrap()
    );
    let contact = t.store.get_contact(&acme, &ana).await.unwrap().unwrap();
    assert_eq!(contact.consent.state, ConsentState::OptedIn);
    assert_eq!(contact.consent.opted_out_by, None);

    // A business's own opt-in is no such answer: a STOP sent before it but delivered after
    // it still opts the customer out.
    let ben = customer(8);
    t.store
        .opt_in(
            &acme,
            &ben,
            OptInSource::Import,
            &proof("Imported"),
            T0 + Duration::hours(1),
        )
        .await
        .unwrap();
    let late_stop = MessageId::from("msg_0000000000000000000000000000b001");
    assert!(
        t.store
            .opt_out_by_message(&acme, &ben, &late_stop, T0)
            .await
            .unwrap()
    );
    let contact = t.store.get_contact(&acme, &ben).await.unwrap().unwrap();
    assert_eq!(contact.consent.state, ConsentState::OptedOut);
}

#[tokio::test]
async fn a_concurrent_opt_in_never_undoes_an_opt_out() {
    let t = table("consent-race").await;
    let acme = tenant("acme");
    let ana = customer(2);
    let offers = proof("offers");
    let (a, b) = tokio::join!(
        t.store
            .opt_in(&acme, &ana, OptInSource::WebForm, &offers, T0),
        t.store
            .opt_out(&acme, &ana, OptOutSource::UserPreferences, "meta", T0),
    );
    a.unwrap();
    b.unwrap();
    // Either order ends opted out: opt-in then opt-out, or opt-out then a refused opt-in.
    let contact = t.store.get_contact(&acme, &ana).await.unwrap().unwrap();
    assert_eq!(contact.consent.state, ConsentState::OptedOut);
    let mut kinds: Vec<_> = t
        .store
        .consent_history(&acme, &ana)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.change)
        .collect();
    kinds.sort_by_key(|k| format!("{k:?}"));
    assert!(
        kinds == [ConsentChangeKind::OptedIn, ConsentChangeKind::OptedOut]
            || kinds == [ConsentChangeKind::OptInRefused, ConsentChangeKind::OptedOut],
        "{kinds:?}"
    );
}

#[tokio::test]
async fn contacts_are_found_by_id_and_inbound_messages_keep_consent() {
    let t = table("contact-id").await;
    let acme = tenant("acme");
    let ana = customer(3);
    t.store
        .opt_in(&acme, &ana, OptInSource::Import, &proof("list"), T0)
        .await
        .unwrap();
    t.store
        .record_inbound_message(
            &acme,
            &inbound("wamid.c1", ana.clone(), T0 + Duration::hours(1), "hi"),
        )
        .await
        .unwrap();
    let id = ContactId::derive(&acme, &ana);
    let found = t
        .store
        .find_contact_by_id(&acme, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.contact, ana);
    assert_eq!(found.consent.state, ConsentState::OptedIn);
    assert_eq!(found.last_inbound_at, Some(T0 + Duration::hours(1)));
    assert_eq!(found.first_seen_at, T0);
    assert!(
        t.store
            .find_contact_by_id(&tenant("globex"), &id)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn marketing_sends_are_kept_only_inside_the_window_asked_for() {
    let t = table("marketing-sends").await;
    let acme = tenant("acme");
    let ana = customer(4);
    for day in [0, 3, 8] {
        let at = T0 + Duration::days(day);
        t.store
            .record_marketing_send(&acme, &ana, at, at - Duration::days(7))
            .await
            .unwrap();
    }
    let contact = t.store.get_contact(&acme, &ana).await.unwrap().unwrap();
    assert_eq!(
        contact.marketing_sent_at,
        vec![T0 + Duration::days(3), T0 + Duration::days(8)]
    );
}

#[tokio::test]
async fn a_decision_moves_a_waiting_message_and_never_a_sent_one() {
    let t = table("decisions").await;
    let acme = tenant("acme");
    let m = outbound("msg_dec1", customer(5), T0, "hello");
    t.store.create_outbound_message(&acme, &m).await.unwrap();
    let defer = PolicyDecisionRecord {
        outcome: DecisionOutcome::Defer,
        reason: Some("quiet_hours".into()),
        detail: Some("quiet hours in the recipient's time zone".into()),
        until: Some(T0 + Duration::hours(9)),
        at: T0,
    };
    assert!(
        t.store
            .record_decision(&acme, &m.message_id, &defer)
            .await
            .unwrap()
    );
    let stored = t
        .store
        .get_message(&acme, &m.message_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, MessageStatus::Deferred);
    assert_eq!(stored.decision.as_ref(), Some(&defer));

    let deny = PolicyDecisionRecord {
        outcome: DecisionOutcome::Deny,
        reason: Some("opted_out".into()),
        detail: Some("the customer opted out of marketing".into()),
        until: None,
        at: T0 + Duration::hours(9),
    };
    assert!(
        t.store
            .record_decision(&acme, &m.message_id, &deny)
            .await
            .unwrap()
    );
    let stored = t
        .store
        .get_message(&acme, &m.message_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, MessageStatus::Denied);
    assert_eq!(stored.denied_at, Some(T0 + Duration::hours(9)));

    // Denied is final: a later decision finds nothing waiting.
    let allow = PolicyDecisionRecord {
        outcome: DecisionOutcome::Allow,
        reason: None,
        detail: None,
        until: None,
        at: T0 + Duration::hours(10),
    };
    assert!(
        !t.store
            .record_decision(&acme, &m.message_id, &allow)
            .await
            .unwrap()
    );

    let sent = outbound("msg_dec2", customer(5), T0, "hello");
    t.store.create_outbound_message(&acme, &sent).await.unwrap();
    t.store
        .mark_sent(
            &acme,
            &sent.message_id,
            &switchboard_domain::Wamid::from("wamid.d2"),
            T0,
        )
        .await
        .unwrap();
    assert!(
        !t.store
            .record_decision(&acme, &sent.message_id, &deny)
            .await
            .unwrap()
    );
    let stored = t
        .store
        .get_message(&acme, &sent.message_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, MessageStatus::Sent);
}

fn template(name: &str, status: &str) -> TemplateRecord {
    TemplateRecord {
        waba_id: "102290129340398".into(),
        name: name.into(),
        language: "en_US".into(),
        template_id: Some("594425479261596".into()),
        category: "MARKETING".into(),
        status: status.into(),
        reason: None,
        quality: None,
        components_json: r#"[{"type":"BODY","text":"Hi {{1}}"}]"#.into(),
        created_at: T0,
        status_at: None,
        category_at: None,
        quality_at: None,
        created_by: Some("user:usr_1".into()),
    }
}

#[tokio::test]
async fn template_changes_apply_in_event_order_whatever_the_arrival_order() {
    let t = table("templates").await;
    let acme = tenant("acme");
    let tpl = template("spring_sale", "PENDING");
    assert!(t.store.put_template(&acme, &tpl, false).await.unwrap());
    assert!(
        !t.store.put_template(&acme, &tpl, false).await.unwrap(),
        "exists"
    );

    let rejected = TemplateChange {
        status: Some("REJECTED".into()),
        reason: Some("INVALID_FORMAT".into()),
        ..TemplateChange::default()
    };
    let approved = TemplateChange {
        status: Some("APPROVED".into()),
        ..TemplateChange::default()
    };
    let waba = &tpl.waba_id;
    assert!(
        t.store
            .apply_template_change(
                &acme,
                waba,
                "spring_sale",
                "en_US",
                &approved,
                T0 + Duration::minutes(5)
            )
            .await
            .unwrap()
    );
    // The older rejection arrives late: ignored.
    assert!(
        !t.store
            .apply_template_change(
                &acme,
                waba,
                "spring_sale",
                "en_US",
                &rejected,
                T0 + Duration::minutes(1)
            )
            .await
            .unwrap()
    );
    let stored = t
        .store
        .get_template(&acme, waba, "spring_sale", "en_US")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, "APPROVED");
    assert_eq!(stored.reason, None);

    let paused = TemplateChange {
        status: Some("PAUSED".into()),
        reason: Some("low quality".into()),
        ..TemplateChange::default()
    };
    t.store
        .apply_template_change(
            &acme,
            waba,
            "spring_sale",
            "en_US",
            &paused,
            T0 + Duration::hours(1),
        )
        .await
        .unwrap();
    let stored = t
        .store
        .get_template(&acme, waba, "spring_sale", "en_US")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.status.as_str(), stored.reason.as_deref()),
        ("PAUSED", Some("low quality"))
    );

    assert!(
        !t.store
            .apply_template_change(&acme, waba, "unknown", "en_US", &approved, T0)
            .await
            .unwrap()
    );
    t.store
        .put_template(&acme, &template("welcome", "APPROVED"), false)
        .await
        .unwrap();
    let page = t
        .store
        .list_templates(&acme, 10, None, crate::common::cursors())
        .await
        .unwrap();
    let names: Vec<_> = page.items.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["spring_sale", "welcome"]);
    assert!(
        t.store
            .list_templates(&tenant("globex"), 10, None, crate::common::cursors())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        t.store
            .delete_template(&acme, waba, "welcome", "en_US")
            .await
            .unwrap()
    );
}
