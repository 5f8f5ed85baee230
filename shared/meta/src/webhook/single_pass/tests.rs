//! The single pass must split every body exactly as the general path does, and leave to it
//! every body it does not read.

use super::read;
use crate::webhook::WebhookEvent;
use crate::webhook::notification::general_events;
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every body either path accepts: the single pass, when it reads one, splits it the same.
fn agree(body: &str) -> bool {
    let general = general_events(body);
    match read(body) {
        Ok(split) => {
            let general = general.unwrap_or_else(|| panic!("only the single pass reads {body}"));
            assert_same(&split.events, &general, body);
            true
        }
        Err(_) => false,
    }
}

/// Compares the queue bodies too: they must be byte for byte what the general path enqueues.
fn assert_same(ours: &[WebhookEvent], theirs: &[WebhookEvent], body: &str) {
    assert_eq!(ours, theirs, "{body}");
    for (a, b) in ours.iter().zip(theirs) {
        let (a, b) = (serde_json::to_string(a), serde_json::to_string(b));
        assert_eq!(a.ok(), b.ok(), "{body}");
    }
}

fn corpus() -> Vec<String> {
    let dir = std::env::var_os("SWITCHBOARD_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
        });
    let files = |sub: &str| -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(sub))
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|x| x == "json"));
        files.sort();
        files
    };
    let mut bodies = Vec::new();
    for path in files("meta-openapi/webhook-examples") {
        bodies.extend(std::fs::read_to_string(path));
    }
    for path in files("meta-webhooks/pywa") {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let cases: BTreeMap<String, &RawValue> = serde_json::from_str(&text).unwrap_or_default();
        bodies.extend(cases.values().map(|body| body.get().to_owned()));
    }
    bodies
}

/// The same JSON, compact, with every object's members sorted by key or in the reverse
/// order: that puts `field` before `value` or after it, `changes` before `id`, statuses or
/// contacts before messages.
fn reordered(body: &str, reverse: bool) -> Option<String> {
    fn text(v: &serde_json::Value, reverse: bool) -> String {
        match v {
            serde_json::Value::Object(map) => {
                let mut members: Vec<String> = map
                    .iter()
                    .map(|(k, v)| {
                        format!(
                            "{}:{}",
                            serde_json::Value::from(k.as_str()),
                            text(v, reverse)
                        )
                    })
                    .collect();
                if reverse {
                    members.reverse();
                }
                format!("{{{}}}", members.join(","))
            }
            serde_json::Value::Array(items) => {
                let items: Vec<String> = items.iter().map(|v| text(v, reverse)).collect();
                format!("[{}]", items.join(","))
            }
            other => other.to_string(),
        }
    }
    serde_json::from_str(body).ok().map(|v| text(&v, reverse))
}

#[test]
fn splits_the_corpus_as_the_general_path_does() {
    let bodies = corpus();
    let mut read_here = 0;
    for body in &bodies {
        // As sent (pretty-printed in the corpus), and compacted.
        read_here += usize::from(agree(body));
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(body) {
            read_here += usize::from(agree(&value.to_string()));
        }
        for reverse in [false, true] {
            if let Some(reordered) = reordered(body, reverse) {
                read_here += usize::from(agree(&reordered));
            }
        }
    }
    eprintln!(
        "single pass: {read_here} of {} corpus bodies",
        4 * bodies.len()
    );
    if !bodies.is_empty() {
        assert!(
            read_here >= 3 * bodies.len(),
            "the single pass left too much to the general path"
        );
    }
}

#[test]
fn leaves_odd_bodies_to_the_general_path_or_agrees_with_it() {
    let wrap = |value: &str| {
        format!(
            r#"{{"object":"whatsapp_business_account","entry":[{{"id":"1","time":5,"changes":[{{"value":{value},"field":"messages"}}]}}]}}"#
        )
    };
    let message =
        r#"{"from":"1","id":"wamid.A","timestamp":"1","type":"text","text":{"body":"hi"}}"#;
    let status = r#"{"id":"wamid.B","status":"read","timestamp":"2","recipient_id":"1"}"#;
    let contact = r#"{"profile":{"name":"A"},"wa_id":"1"}"#;
    let values = [
        format!(r#"{{"contacts":[{contact}],"messages":[{message}]}}"#),
        format!(r#"{{"messages":[{message}],"contacts":[{contact}]}}"#),
        format!(r#"{{"statuses":[{status}],"messages":[{message},{message}]}}"#),
        format!(r#"{{"messages":[{message}],"errors":[{{"code":1}}]}}"#),
        format!(r#"{{"messages":[{message}],"errors":null}}"#),
        format!(r#"{{"messages":[{{"id":"wamid.C"}},{message}]}}"#),
        format!(r#"{{"messages":[{message}],"contacts":[{{"profile":{{"name":5}}}},["x"],{contact}]}}"#),
        format!(r#"{{"messages":[{message}],"contacts":{{"not":"a list"}}}}"#),
        format!(r#"{{"messages":[{message}],"messages":[]}}"#),
        format!(r#"{{"metadata":{{"phone_number_id":7,"display_phone_number":"\u0031"}},"statuses":[{status}]}}"#),
        format!(r#"{{"metadata":[1],"statuses":[{status}]}}"#),
        format!(r#"{{"metad\u0061ta":{{"phone_number_id":"1"}},"statuses":[{status}]}}"#),
        r#"{"messages":[{"from":"1","id":"wamid.D","timestamp":1,"type":"image","image":{"id":"m","caption":"caf\u00e9"},"text":{"body":"x"}}]}"#.to_owned(),
        r#"{"messages":[{"id":"wamid.E","timestamp":"1","type":"text","text":"not an object"}]}"#.to_owned(),
        r#"{"messages":[{"id":"wamid.F","timestamp":"1","type":"edit","edit":{"original_message_id":"wamid.A","message":{"type":"text","text":{"body":"new"}}}}]}"#.to_owned(),
        r#"{"statuses":[{"id":"wamid.G","status":"sent","timestamp":"1","status":"read"}]}"#.to_owned(),
        r#"{"statuses":[{"id":"wamid.H","status":"failed","timestamp":"1","errors":[{"code":131026,"title":"t","error_data":{"details":"d"}}],"pricing":{"billable":true}}]}"#.to_owned(),
        r#"{"statuses":[["wamid.I","read","1"]]}"#.to_owned(),
        r#"{}"#.to_owned(),
        r#"[]"#.to_owned(),
        r#""text""#.to_owned(),
        r#"null"#.to_owned(),
    ];
    for value in &values {
        agree(&wrap(value));
        agree(&wrap(value).replace(r#""field":"messages""#, r#""field":"calls""#));
    }
    for body in [
        r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"calls","value":{"a":1}}],"time":7,"id":"9"}]}"#,
        r#"{"object":"whatsapp_business_account","entry":[{"id":null,"changes":[]}]}"#,
        r#"{"object":"whatsapp_business_account","entry":[{"id":"1"}],"object":"page"}"#,
        r#"{"object":"whatsapp_business_account","entry":null}"#,
        r#"{"object":"whatsapp_business_account","entry":[]} x"#,
        " {\"object\" : \"whatsapp_business_account\" ,\n \"entry\" : [ ] } ",
    ] {
        agree(body);
    }
}
