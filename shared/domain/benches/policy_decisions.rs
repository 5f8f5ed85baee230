//! Compliance decisions per second on one core: `decide` over a mix of the cases the outbound
//! function meets (free-form in and out of the window, templates with and without consent,
//! capped, in quiet hours, screened text). `cargo bench -p switchboard-domain --bench
//! policy_decisions -- --seconds 3 --json out.json`.

use std::hint::black_box;
use std::time::{Duration, Instant};
use switchboard_domain::TenantSettings;
use switchboard_domain::compliance::{
    ChannelFacts, ConsentState, ContactFacts, Decision, MessageFacts, MessageKind, PolicyInput,
    RecipientFacts, TemplateCategory, TemplateStatus, TenantFacts, WindowFacts, decide,
};
use switchboard_domain::consent::OptInSource;
use time::OffsetDateTime;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let seconds: f64 = arg("--seconds").and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let settings = TenantSettings::default();
    let now =
        OffsetDateTime::from_unix_timestamp(1_764_590_400).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let hour = time::Duration::hours(1);
    let sends = [now - 30 * hour, now - 100 * hour];
    let recipients = [
        "15551234567",
        "34910000001",
        "919876543210",
        "5511987654321",
        "447700900123",
    ];
    let texts = [
        "Your order 1042 has shipped and arrives on Thursday",
        "Spring sale: 20% off every jacket until Sunday",
        "Cheap cigarettes delivered tonight",
    ];
    let kinds = [
        MessageKind::FreeForm,
        MessageKind::Template {
            category: TemplateCategory::Marketing,
            status: TemplateStatus::Approved,
        },
        MessageKind::Template {
            category: TemplateCategory::Utility,
            status: TemplateStatus::Approved,
        },
        MessageKind::Template {
            category: TemplateCategory::Marketing,
            status: TemplateStatus::Paused,
        },
    ];
    let consents = [
        ConsentState::Unknown,
        ConsentState::OptedIn {
            at: now - 1000 * hour,
            source: OptInSource::WebForm,
        },
    ];
    let windows = [Some(now - 2 * hour), Some(now - 30 * hour), None];
    let mut inputs = Vec::new();
    for (i, kind) in kinds.iter().enumerate() {
        for (j, consent) in consents.iter().enumerate() {
            for (k, window) in windows.iter().enumerate() {
                let n = i * 7 + j * 3 + k;
                inputs.push(PolicyInput {
                    now: now + time::Duration::minutes(n as i64 * 37),
                    tenant: TenantFacts::from_settings(&settings, false, false),
                    channel: ChannelFacts { connected: true },
                    contact: ContactFacts {
                        consent: *consent,
                        ever_opted_in: j == 1,
                        recent_marketing_sends: &sends[..n % 3],
                    },
                    window: WindowFacts {
                        last_customer_message_at: *window,
                        closed_by_error_at: None,
                    },
                    recipient: RecipientFacts {
                        wa_id: Some(recipients[n % recipients.len()]),
                    },
                    message: MessageFacts {
                        kind: *kind,
                        screening_text: vec![texts[n % texts.len()]],
                    },
                });
            }
        }
    }
    let (mut allowed, mut denied, mut deferred) = (0u64, 0u64, 0u64);
    for input in &inputs {
        match decide(input) {
            Decision::Allow => allowed += 1,
            Decision::Deny { .. } => denied += 1,
            Decision::Defer { .. } => deferred += 1,
        }
    }
    let budget = Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut decisions = 0u64;
    while started.elapsed() < budget {
        for input in &inputs {
            black_box(decide(black_box(input)));
        }
        decisions += inputs.len() as u64;
    }
    let per_second = decisions as f64 / started.elapsed().as_secs_f64();
    println!(
        "policy decisions: {per_second:.0}/s over {} cases ({allowed} allow, {denied} deny, {deferred} defer)",
        inputs.len()
    );
    if let Some(path) = arg("--json") {
        let report = format!(
            "{{\"decisions_per_second\": {per_second:.0}, \"cases\": {}, \"allow\": {allowed}, \"deny\": {denied}, \"defer\": {deferred}}}",
            inputs.len()
        );
        if let Err(e) = std::fs::write(&path, report) {
            eprintln!("could not write {path}: {e}");
            std::process::exit(1);
        }
    }
}
