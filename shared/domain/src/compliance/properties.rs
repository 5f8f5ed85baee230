//! The engine's invariants, on generated facts.

use super::engine_tests::{AUTHENTICATION, Facts, MARKETING, UTILITY};
use super::*;
use crate::tenant_settings::{QuietHours, TimeOfDay, Timezone};
use proptest::prelude::*;
use time::{Duration, OffsetDateTime};

/// Numbers from single-zone and multi-zone countries and area codes, an unlisted country,
/// and BSUID recipients.
const WA_IDS: &[Option<&str>] = &[
    Some("12125551234"),
    Some("13125551234"),
    Some("18005551234"),
    Some("14165551234"),
    Some("34612345678"),
    Some("34912345678"),
    Some("919812345678"),
    Some("79161234567"),
    Some("5511987654321"),
    Some("5597987654321"),
    Some("61412345678"),
    Some("62812345678"),
    Some("5215512345678"),
    Some("527771234567"),
    Some("971501234567"),
    Some("4915112345678"),
    Some("80012345678"),
    None,
];
const TENANT_ZONES: &[&str] = &[
    "UTC",
    "Europe/Berlin",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
];

fn instant() -> impl Strategy<Value = OffsetDateTime> {
    // 2020–2035, with sub-second parts: deferrals must still land on whole minutes.
    (1_577_836_800i64..2_082_758_400, 0u32..1_000_000_000).prop_map(|(s, ns)| {
        OffsetDateTime::from_unix_timestamp(s).unwrap() + Duration::nanoseconds(i64::from(ns))
    })
}

/// Seconds before `now` (negative: after), mostly within a few days.
fn offset_secs() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => 0i64..(3 * 86_400),
        1 => -600i64..0,
        1 => (3 * 86_400i64)..(40 * 86_400),
    ]
}

fn quiet_hours() -> impl Strategy<Value = Option<QuietHours>> {
    prop_oneof![
        3 => Just(Some(QuietHours::default())),
        3 => (0u16..24, 0u16..60, 0u16..24, 0u16..60).prop_map(|(sh, sm, eh, em)| Some(
            QuietHours { start: TimeOfDay::hm(sh, sm), end: TimeOfDay::hm(eh, em) }
        )),
        1 => Just(None),
    ]
}

fn kind() -> impl Strategy<Value = MessageKind> {
    let status = prop_oneof![
        6 => Just(TemplateStatus::Approved),
        1 => Just(TemplateStatus::Pending),
        1 => Just(TemplateStatus::Rejected),
        1 => Just(TemplateStatus::Paused),
        1 => Just(TemplateStatus::Disabled),
        1 => Just(TemplateStatus::Unknown),
    ];
    let category = prop_oneof![
        3 => Just(TemplateCategory::Marketing),
        1 => Just(TemplateCategory::Utility),
        1 => Just(TemplateCategory::Authentication),
    ];
    prop_oneof![
        1 => Just(MessageKind::FreeForm),
        4 => (category, status).prop_map(|(category, status)| MessageKind::Template { category, status }),
    ]
}

fn texts() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        6 => Just(vec!["Your order has shipped".to_owned()]),
        1 => Just(vec![]),
        1 => Just(vec!["Cold beer tonight".to_owned()]),
        1 => proptest::collection::vec("[a-z]{12,20}", 0..3),
    ]
}

prop_compose! {
    fn facts()(
        now in instant(),
        (suspended, marketing_suspended, connected) in (prop::bool::weighted(0.05), prop::bool::weighted(0.1), prop::bool::weighted(0.95)),
        (max, days) in (0u16..6, 1u16..15),
        quiet in quiet_hours(),
        zone in prop::sample::select(TENANT_ZONES),
        (consent, consent_ago) in (0u8..6, offset_secs()),
        ever in prop::bool::weighted(0.8),
        sends in proptest::collection::vec(offset_secs(), 0..6),
        last in prop::option::weighted(0.7, offset_secs()),
        closed in prop::option::weighted(0.2, offset_secs()),
        wa_id in prop::sample::select(WA_IDS),
        kind in kind(),
        texts in texts(),
    ) -> Facts {
        let rel = |d: i64| now - Duration::seconds(d);
        let consent = match consent {
            0 => ConsentState::Unknown,
            1..=3 => ConsentState::OptedIn { at: rel(consent_ago), source: OptInSource::WebForm },
            _ => ConsentState::OptedOut { at: rel(consent_ago), source: OptOutSource::Keyword },
        };
        Facts {
            now,
            suspended,
            marketing_suspended,
            cap: FrequencyCap { max_per_recipient: max, period_days: days },
            quiet,
            timezone: Timezone::parse(zone).unwrap(),
            connected,
            consent,
            ever_opted_in: ever,
            sends: sends.into_iter().map(rel).collect(),
            window: WindowFacts {
                last_customer_message_at: last.map(rel),
                closed_by_error_at: closed.map(rel),
            },
            wa_id: wa_id.map(str::to_owned),
            kind,
            texts,
        }
    }
}

/// Facts that reach the quiet-hours rule: an approved marketing template that passes every
/// other rule.
fn marketing_facts() -> impl Strategy<Value = Facts> {
    (facts(), quiet_hours()).prop_map(|(mut f, quiet)| {
        f.suspended = false;
        f.marketing_suspended = false;
        f.connected = true;
        f.kind = MARKETING;
        f.texts = vec!["New arrivals".into()];
        f.consent = ConsentState::OptedIn {
            at: f.now - Duration::days(30),
            source: OptInSource::Checkout,
        };
        f.ever_opted_in = true;
        f.cap.max_per_recipient = 50;
        f.quiet = quiet.or(Some(QuietHours::default()));
        f
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn free_form_outside_the_window_is_never_allowed(mut f in facts(), age in 86_400i64..(90 * 86_400), never in any::<bool>()) {
        f.kind = MessageKind::FreeForm;
        f.window.last_customer_message_at = if never { None } else { Some(f.now - Duration::seconds(age)) };
        prop_assert!(!f.decide().is_allow());
    }

    #[test]
    fn an_opted_out_contact_never_receives_marketing(mut f in facts(), ago in offset_secs()) {
        f.consent = ConsentState::OptedOut { at: f.now - Duration::seconds(ago), source: OptOutSource::UserPreferences };
        if let MessageKind::Template { status, .. } = f.kind {
            f.kind = MessageKind::Template { category: TemplateCategory::Marketing, status };
        } else {
            f.kind = MARKETING;
        }
        prop_assert!(matches!(f.decide(), Decision::Deny { .. }), "{:?}", f.decide());
    }

    #[test]
    fn a_template_not_approved_is_never_allowed(
        mut f in facts(),
        category in prop::sample::select(vec![TemplateCategory::Marketing, TemplateCategory::Utility, TemplateCategory::Authentication]),
        status in prop::sample::select(vec![TemplateStatus::Pending, TemplateStatus::Rejected, TemplateStatus::Paused, TemplateStatus::Disabled, TemplateStatus::Unknown]),
    ) {
        f.kind = MessageKind::Template { category, status };
        let d = f.decide();
        prop_assert!(matches!(d, Decision::Deny { .. }), "{:?}", d);
    }

    #[test]
    fn a_deferral_lands_on_a_later_whole_minute_that_does_not_defer_again(f in marketing_facts()) {
        if let Decision::Defer { until, reason } = f.decide() {
            prop_assert_eq!(reason, DeferReason::QuietHours);
            prop_assert!(until > f.now);
            prop_assert_eq!((until.second(), until.nanosecond()), (0, 0));
            prop_assert!(until - f.now <= Duration::days(4), "{} → {}", f.now, until);
            let again = f.clone().with(|g| g.now = until);
            prop_assert!(!matches!(again.decide(), Decision::Defer { .. }), "{:?} at {}", again.decide(), until);
        }
    }

    #[test]
    fn sending_whenever_allowed_never_exceeds_the_cap(
        start in instant(),
        max in 0u16..5,
        days in 1u16..10,
        gaps in proptest::collection::vec(0i64..(3 * 1440), 1..60),
        wa_id in prop::sample::select(WA_IDS),
    ) {
        let mut f = Facts::default().with(|f| {
            f.cap = FrequencyCap { max_per_recipient: max, period_days: days };
            f.quiet = None;
            f.wa_id = wa_id.map(str::to_owned);
        });
        f.now = start;
        for gap in gaps {
            f.now += Duration::minutes(gap);
            if f.decide().is_allow() {
                f.sends.push(f.now);
            }
        }
        let period = Duration::days(i64::from(days));
        for &s in &f.sends {
            let in_window = f.sends.iter().filter(|&&t| t > s - period && t <= s).count();
            prop_assert!(in_window <= usize::from(max), "{} sends in the period ending {}", in_window, s);
        }
    }

    #[test]
    fn decide_is_deterministic_and_ignores_the_order_of_sends(f in facts()) {
        let first = f.decide();
        prop_assert_eq!(&first, &f.decide());
        let mut reversed = f.clone();
        reversed.sends.reverse();
        prop_assert_eq!(&first, &reversed.decide());
    }

    #[test]
    fn a_detail_never_holds_the_number_or_the_text(mut f in facts(), words in proptest::collection::vec("[a-z]{12,20}", 1..3)) {
        f.texts = words.clone();
        if let Decision::Deny { detail, .. } = f.decide() {
            prop_assert!(!detail.is_empty());
            if let Some(wa_id) = &f.wa_id {
                prop_assert!(!detail.contains(wa_id.as_str()));
            }
            for w in &words {
                prop_assert!(!detail.contains(w.as_str()));
            }
        }
    }

    #[test]
    fn utility_and_authentication_ignore_cap_quiet_hours_and_marketing_suspension(mut f in facts(), auth in any::<bool>()) {
        f.suspended = false;
        f.connected = true;
        f.texts = vec![];
        f.ever_opted_in = true;
        f.kind = if auth { AUTHENTICATION } else { UTILITY };
        prop_assert_eq!(f.decide(), Decision::Allow);
    }
}
