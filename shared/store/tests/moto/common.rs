//! A fresh table per test, shaped like the one in template.yaml.

use crate::wire::{Gate, OneRequestAtATime};
use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use switchboard_domain::{ContactKey, PhoneNumberId, TenantId, Wamid};
use switchboard_store::{CursorCodec, Cursors, NewInboundMessage, NewOutboundMessage, Store};
use time::OffsetDateTime;
use time::macros::datetime;

pub const T0: OffsetDateTime = datetime!(2026-11-01 10:00 UTC);

pub struct TestTable {
    pub store: Store,
    pub client: Client,
    pub name: String,
}

async fn client(gate: Option<Arc<Gate>>) -> Client {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        panic!(
            "AWS_ENDPOINT_URL is not set. These tests need moto: run them with \
             `scripts/with-moto.sh cargo test -p switchboard-store` \
             (create the venv first with `make .venv/moto/.installed`)."
        );
    }
    let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let config = config
        .into_builder()
        .http_client(OneRequestAtATime::new(gate))
        .build();
    Client::new(&config)
}

fn unique_name(label: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "store-{label}-{}-{}-{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn attribute(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .unwrap()
}

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .unwrap()
}

pub async fn table(label: &str) -> TestTable {
    let client = client(None).await;
    let name = unique_name(label);
    client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(vec![
            attribute("pk"),
            attribute("sk"),
            attribute("gsi1pk"),
            attribute("gsi1sk"),
        ]))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("gsi1")
                .key_schema(key("gsi1pk", KeyType::Hash))
                .key_schema(key("gsi1sk", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "create table {name}: {}",
                aws_sdk_dynamodb::error::DisplayErrorContext(e)
            )
        });
    client
        .update_time_to_live()
        .table_name(&name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("expires_at")
                .enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("enable TTL");
    TestTable {
        store: Store::new(client.clone(), name.clone()),
        client,
        name,
    }
}

impl TestTable {
    /// Another store on the same table whose requests wait at `gate`.
    pub async fn gated_store(&self, gate: Arc<Gate>) -> Store {
        Store::new(client(Some(gate)).await, self.name.clone())
    }

    /// Every item whose partition key is `pk`, read around the store.
    pub async fn partition(
        &self,
        pk: &str,
    ) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        self.client
            .query()
            .table_name(&self.name)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(
                ":pk",
                aws_sdk_dynamodb::types::AttributeValue::S(pk.to_owned()),
            )
            .consistent_read(true)
            .send()
            .await
            .expect("query partition")
            .items
            .unwrap_or_default()
    }

    /// Every item in the table, read around the store.
    pub async fn all_items(
        &self,
    ) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        self.client
            .scan()
            .table_name(&self.name)
            .consistent_read(true)
            .send()
            .await
            .expect("scan")
            .items
            .unwrap_or_default()
    }
}

/// Page cursors signed with a fixed test key, as of `T0` (the time the tests' messages are
/// recorded at): a cursor from one call is accepted by the next.
pub fn cursors() -> Cursors<'static> {
    static CODEC: std::sync::LazyLock<CursorCodec> = std::sync::LazyLock::new(|| {
        CursorCodec::new(
            &switchboard_domain::Secret::new("store-tests-cursor-signing-key-0123456789"),
            CursorCodec::DEFAULT_TTL,
        )
        .unwrap()
    });
    CODEC.at(T0)
}

pub fn tenant(id: &str) -> TenantId {
    TenantId::from(id)
}

pub fn pnid() -> PhoneNumberId {
    PhoneNumberId::from("106540352242922")
}

pub fn customer(n: u32) -> ContactKey {
    ContactKey::WaId(format!("1555000{n:04}"))
}

pub fn inbound(
    wamid: &str,
    contact: ContactKey,
    sent_at: OffsetDateTime,
    text: &str,
) -> NewInboundMessage {
    NewInboundMessage {
        phone_number_id: pnid(),
        contact,
        profile_name: Some("Ana".into()),
        wamid: Wamid::from(wamid),
        sent_at,
        message_type: "text".into(),
        text: Some(text.into()),
        raw: format!(r#"{{"id":"{wamid}","type":"text","text":{{"body":"{text}"}}}}"#),
        received_at: sent_at + time::Duration::seconds(2),
    }
}

pub fn outbound(
    id: &str,
    to: ContactKey,
    created_at: OffsetDateTime,
    text: &str,
) -> NewOutboundMessage {
    NewOutboundMessage {
        message_id: switchboard_domain::MessageId::from(id),
        phone_number_id: pnid(),
        to,
        message_type: "text".into(),
        text: Some(text.into()),
        body_json: format!(
            r#"{{"messaging_product":"whatsapp","type":"text","text":{{"body":"{text}"}}}}"#
        ),
        created_at,
    }
}
