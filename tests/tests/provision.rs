//! The local stack is provisioned from template.yaml itself: these tests check, against the
//! emulator, that what gets created is what the template declares, that every function's
//! environment points at it, and that provisioning is idempotent and isolated per prefix.
//!
//! Run with a local emulator: `scripts/with-moto.sh cargo test -p switchboard-e2e --test provision`.

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{KeyType, ProjectionType, StreamViewType, TimeToLiveStatus};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use switchboard_dev::provision::{ProvisionRequest, Provisioned, provision};

const FUNCTIONS: [(&str, &str); 7] = [
    ("WebhookFunction", "webhook"),
    ("ApiFunction", "api"),
    ("InboundFunction", "inbound"),
    ("OutboundFunction", "outbound"),
    // No Events: an operator invokes it. It gets an environment and no binding or route.
    ("OperationsFunction", "operations"),
    // A schedule only.
    ("TemplateSyncFunction", "template-sync"),
    ("MediaFunction", "media"),
];

const ENV_NAMES: [&str; 9] = [
    "TABLE_NAME",
    "INBOUND_QUEUE_URL",
    "OUTBOUND_QUEUE_URL",
    "DATA_BUCKET",
    "META_SECRET_ID",
    "GRAPH_API_BASE_URL",
    "GRAPH_API_VERSION",
    "RUST_LOG",
    "OUTBOUND_RETRY_BASE_SECONDS",
];

fn template_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml")
}

/// Refuses to run against anything but a local endpoint: these tests create resources.
async fn local_aws() -> SdkConfig {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect(
        "AWS_ENDPOINT_URL must point at the local emulator: run through scripts/with-moto.sh",
    );
    assert!(
        endpoint.starts_with("http://127.0.0.1") || endpoint.starts_with("http://localhost"),
        "AWS_ENDPOINT_URL {endpoint} is not local"
    );
    switchboard_platform::aws::load_sdk_config().await
}

fn unique_prefix(label: &str) -> String {
    let id = ulid::Ulid::new().to_string().to_lowercase();
    format!("{label}-{}", &id[16..])
}

fn secret_json(app_secret: &str) -> String {
    json!({"app_secret": app_secret, "verify_token": "provision-verify", "access_token": "provision-access"}).to_string()
}

fn request<'a>(template: &'a Path, prefix: &'a str, app_secret: &str) -> ProvisionRequest<'a> {
    ProvisionRequest {
        template_path: template,
        prefix,
        parameter_overrides: BTreeMap::from([(
            "GraphApiBaseUrl".to_owned(),
            "http://127.0.0.1:3001".to_owned(),
        )]),
        secret_params: BTreeMap::from([("MetaSecretArn".to_owned(), secret_json(app_secret))]),
    }
}

async fn provision_template(aws: &SdkConfig, prefix: &str) -> Provisioned {
    let template = template_path();
    provision(aws, &request(&template, prefix, "first-secret"))
        .await
        .expect("template.yaml provisions")
}

fn queue_attributes(
    attributes: &std::collections::HashMap<QueueAttributeName, String>,
) -> BTreeMap<String, String> {
    attributes
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
        .collect()
}

async fn all_queue_attributes(sqs: &aws_sdk_sqs::Client, url: &str) -> BTreeMap<String, String> {
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .expect("queue attributes");
    queue_attributes(out.attributes().expect("attributes"))
}

#[tokio::test]
async fn the_table_has_the_declared_keys_index_stream_and_ttl() {
    let aws = local_aws().await;
    let prefix = unique_prefix("prov-table");
    let p = provision_template(&aws, &prefix).await;
    let table = &p.resources["Table"];
    assert_eq!(table.name, format!("{prefix}-table"));

    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let described = dynamodb
        .describe_table()
        .table_name(&table.name)
        .send()
        .await
        .expect("table exists")
        .table
        .expect("description");
    let keys: Vec<(&str, KeyType)> = described
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name(), k.key_type().clone()))
        .collect();
    assert_eq!(keys, vec![("pk", KeyType::Hash), ("sk", KeyType::Range)]);

    let gsi = described
        .global_secondary_indexes()
        .iter()
        .find(|i| i.index_name() == Some("gsi1"))
        .expect("gsi1 exists");
    let gsi_keys: Vec<(&str, KeyType)> = gsi
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name(), k.key_type().clone()))
        .collect();
    assert_eq!(
        gsi_keys,
        vec![("gsi1pk", KeyType::Hash), ("gsi1sk", KeyType::Range)]
    );
    assert_eq!(
        gsi.projection().and_then(|p| p.projection_type()),
        Some(&ProjectionType::All)
    );

    let stream = described
        .stream_specification()
        .expect("stream specification");
    assert!(stream.stream_enabled());
    assert_eq!(
        stream.stream_view_type(),
        Some(&StreamViewType::NewAndOldImages)
    );
    assert_eq!(
        table.attributes.get("StreamArn").map(String::as_str),
        described.latest_stream_arn()
    );

    let sse = described.sse_description().expect("encryption at rest");
    assert_eq!(
        sse.kms_master_key_arn(),
        Some(p.resources["DataKey"].arn.as_str())
    );

    let ttl = dynamodb
        .describe_time_to_live()
        .table_name(&table.name)
        .send()
        .await
        .expect("ttl")
        .time_to_live_description
        .expect("ttl description");
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    assert_eq!(ttl.attribute_name(), Some("expires_at"));
}

#[tokio::test]
async fn queues_redrive_to_their_dead_letter_queues_and_outbound_is_fifo() {
    let aws = local_aws().await;
    let prefix = unique_prefix("prov-queues");
    let p = provision_template(&aws, &prefix).await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let url = |id: &str| p.resources[id].url.clone().expect("queue url");

    let inbound = all_queue_attributes(&sqs, &url("InboundQueue")).await;
    let redrive: Value =
        serde_json::from_str(&inbound["RedrivePolicy"]).expect("redrive policy is JSON");
    assert_eq!(
        redrive["deadLetterTargetArn"],
        json!(p.resources["InboundDeadLetterQueue"].arn)
    );
    assert_eq!(
        redrive["maxReceiveCount"].to_string().trim_matches('"'),
        "5"
    );
    assert_eq!(inbound["VisibilityTimeout"], "180");
    assert!(!inbound.contains_key("FifoQueue") || inbound["FifoQueue"] == "false");

    let outbound_name = &p.resources["OutboundQueue"].name;
    assert_eq!(outbound_name, &format!("{prefix}-outboundqueue.fifo"));
    let outbound = all_queue_attributes(&sqs, &url("OutboundQueue")).await;
    assert_eq!(outbound["FifoQueue"], "true");
    assert_eq!(outbound["ContentBasedDeduplication"], "false");
    let redrive: Value =
        serde_json::from_str(&outbound["RedrivePolicy"]).expect("redrive policy is JSON");
    assert_eq!(
        redrive["deadLetterTargetArn"],
        json!(p.resources["OutboundDeadLetterQueue"].arn)
    );
    assert_eq!(
        redrive["maxReceiveCount"].to_string().trim_matches('"'),
        "8"
    );
    let outbound_dlq = all_queue_attributes(&sqs, &url("OutboundDeadLetterQueue")).await;
    assert_eq!(
        outbound_dlq["FifoQueue"], "true",
        "a FIFO queue's dead-letter queue must be FIFO"
    );

    // Media jobs: 6x the media function's 120 s timeout, dead-lettered after 5 receives.
    let media = all_queue_attributes(&sqs, &url("MediaQueue")).await;
    assert_eq!(media["VisibilityTimeout"], "720");
    let redrive: Value =
        serde_json::from_str(&media["RedrivePolicy"]).expect("redrive policy is JSON");
    assert_eq!(
        redrive["deadLetterTargetArn"],
        json!(p.resources["MediaDeadLetterQueue"].arn)
    );
    assert_eq!(
        redrive["maxReceiveCount"].to_string().trim_matches('"'),
        "5"
    );

    // The redrive is real: a message received 5 times without being deleted moves to the DLQ.
    sqs.send_message()
        .queue_url(url("InboundQueue"))
        .message_body("poison")
        .send()
        .await
        .expect("send");
    for attempt in 1..=5 {
        let got = sqs
            .receive_message()
            .queue_url(url("InboundQueue"))
            .visibility_timeout(0)
            .send()
            .await
            .expect("receive");
        assert_eq!(
            got.messages().len(),
            1,
            "receive {attempt} sees the message"
        );
    }
    let after = sqs
        .receive_message()
        .queue_url(url("InboundQueue"))
        .send()
        .await
        .expect("receive");
    assert!(
        after.messages().is_empty(),
        "the message left the queue after 5 receives"
    );
    let parked = sqs
        .receive_message()
        .queue_url(url("InboundDeadLetterQueue"))
        .send()
        .await
        .expect("receive from DLQ");
    assert_eq!(
        parked.messages().first().and_then(|m| m.body()),
        Some("poison")
    );

    // FIFO sends need a group and deduplication id: content-based deduplication is off.
    let without_dedup = sqs
        .send_message()
        .queue_url(url("OutboundQueue"))
        .message_group_id("conversation-1")
        .message_body("hello")
        .send()
        .await;
    assert!(
        without_dedup.is_err(),
        "a FIFO send without a deduplication id is refused"
    );
    sqs.send_message()
        .queue_url(url("OutboundQueue"))
        .message_group_id("conversation-1")
        .message_deduplication_id("send-1")
        .message_body("hello")
        .send()
        .await
        .expect("FIFO send with group and deduplication id");
}

#[tokio::test]
async fn bucket_key_and_secret_exist_as_declared() {
    let aws = local_aws().await;
    let prefix = unique_prefix("prov-data");
    let p = provision_template(&aws, &prefix).await;
    let key = &p.resources["DataKey"];
    let bucket = &p.resources["DataBucket"];
    assert_eq!(bucket.name, format!("{prefix}-databucket"));

    let s3 = switchboard_platform::aws::s3_client(&aws);
    let encryption = s3
        .get_bucket_encryption()
        .bucket(&bucket.name)
        .send()
        .await
        .expect("bucket encryption");
    let default = encryption
        .server_side_encryption_configuration()
        .and_then(|c| c.rules().first())
        .and_then(|r| r.apply_server_side_encryption_by_default())
        .expect("default encryption rule");
    assert_eq!(default.sse_algorithm().as_str(), "aws:kms");
    assert_eq!(default.kms_master_key_id(), Some(key.arn.as_str()));
    // Versioning shows in writes: each one gets a version id. (The emulator's
    // GetBucketVersioning reply does not parse in the SDK, so it is not asked directly.)
    let put = s3
        .put_object()
        .bucket(&bucket.name)
        .key("quarantine/probe.json")
        .body(b"{}".to_vec().into())
        .send()
        .await
        .expect("the bucket takes writes");
    assert!(
        put.version_id().is_some_and(|v| v != "null"),
        "versioning is enabled"
    );

    let kms = aws_sdk_kms::Client::new(&aws);
    let by_alias = kms
        .describe_key()
        .key_id(format!("alias/{prefix}-data"))
        .send()
        .await
        .expect("the template's alias names the key")
        .key_metadata
        .expect("metadata");
    assert_eq!(by_alias.key_id(), key.reference);
    assert!(by_alias.enabled());
    let rotation = kms
        .get_key_rotation_status()
        .key_id(&key.reference)
        .send()
        .await
        .expect("rotation status");
    assert!(rotation.key_rotation_enabled());

    let secrets = aws_sdk_secretsmanager::Client::new(&aws);
    let secret_id = &p.function_env["WebhookFunction"]["META_SECRET_ID"];
    let secret = secrets
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .expect("secret exists");
    assert_eq!(
        secret.name(),
        Some(format!("{prefix}/MetaSecretArn").as_str())
    );
    assert_eq!(
        secret.secret_string(),
        Some(secret_json("first-secret").as_str())
    );

    // The template's own secret gets a random value as GenerateSecretString describes it.
    let generated = secrets
        .get_secret_value()
        .secret_id(&p.resources["CursorSigningKey"].arn)
        .send()
        .await
        .expect("generated secret exists");
    assert_eq!(
        generated.name(),
        Some(format!("{prefix}-cursorsigningkey").as_str())
    );
    let value = generated.secret_string().expect("a string value");
    assert_eq!(value.len(), 64);
    assert!(
        value.bytes().all(|b| b.is_ascii_alphanumeric()),
        "no punctuation"
    );
}

#[tokio::test]
async fn every_function_environment_resolves_to_the_created_resources() {
    let aws = local_aws().await;
    let prefix = unique_prefix("prov-env");
    let p = provision_template(&aws, &prefix).await;
    let r = &p.resources;

    let expected_binaries: BTreeMap<String, String> = FUNCTIONS
        .iter()
        .map(|(id, bin)| ((*id).to_owned(), (*bin).to_owned()))
        .collect();
    assert_eq!(p.function_binaries, expected_binaries);

    for (function, _) in FUNCTIONS {
        let env = &p.function_env[function];
        let names: Vec<&str> = env.keys().map(String::as_str).collect();
        let mut expected = ENV_NAMES.to_vec();
        if function == "ApiFunction" {
            // Only the API signs page cursors and access tokens, checks console origins and
            // the operator's key.
            expected.extend([
                "CURSOR_SECRET_ID",
                "ACCESS_TOKEN_SECRET_ID",
                "OPERATOR_SECRET_ID",
                "CONSOLE_ORIGINS",
                // Embedded Signup: the app id codes are exchanged with, the token vault's key.
                "META_APP_ID",
                "TOKEN_KEY_ID",
                // Media links and upload forms are for objects under this key.
                "MEDIA_KEY_ID",
            ]);
        }
        if function == "OutboundFunction" || function == "TemplateSyncFunction" {
            // Opens each tenant's own token for its sends, or to list its templates.
            expected.push("TOKEN_KEY_ID");
        }
        if function == "MediaFunction" {
            // The tenant's token for Meta's media, and the key our copies are encrypted with.
            expected.extend(["TOKEN_KEY_ID", "MEDIA_KEY_ID"]);
        }
        let consumed = [
            ("InboundFunction", "InboundQueue", "InboundDeadLetterQueue"),
            (
                "OutboundFunction",
                "OutboundQueue",
                "OutboundDeadLetterQueue",
            ),
            ("MediaFunction", "MediaQueue", "MediaDeadLetterQueue"),
        ];
        if let Some((_, source, dead_letters)) = consumed.iter().find(|(f, ..)| *f == function) {
            // A record's last failure goes to its own queue's dead-letter queue with its
            // reason, on the receive SQS's own redrive would move it.
            expected.extend(["DEAD_LETTER_QUEUE_URL", "MAX_RECEIVES"]);
            assert_eq!(
                Some(&env["DEAD_LETTER_QUEUE_URL"]),
                r[*dead_letters].url.as_ref(),
                "{function}"
            );
            let queue = all_queue_attributes(
                &aws_sdk_sqs::Client::new(&aws),
                r[*source].url.as_deref().unwrap_or_default(),
            )
            .await;
            let redrive: Value =
                serde_json::from_str(&queue["RedrivePolicy"]).expect("redrive policy is JSON");
            assert_eq!(
                redrive["deadLetterTargetArn"].as_str(),
                Some(r[*dead_letters].arn.as_str()),
                "{source} redrives into {dead_letters}"
            );
            assert_eq!(
                env["MAX_RECEIVES"],
                redrive["maxReceiveCount"].to_string().trim_matches('"'),
                "MAX_RECEIVES of {function} is {source}'s maxReceiveCount"
            );
        }
        if function == "OperationsFunction" {
            // The dead-letter queues it lists and redrives, and the media queue they return to.
            expected.extend([
                "INBOUND_DEAD_LETTER_QUEUE_URL",
                "OUTBOUND_DEAD_LETTER_QUEUE_URL",
                "MEDIA_DEAD_LETTER_QUEUE_URL",
                "MEDIA_QUEUE_URL",
            ]);
            for (var, queue) in [
                ("INBOUND_DEAD_LETTER_QUEUE_URL", "InboundDeadLetterQueue"),
                ("OUTBOUND_DEAD_LETTER_QUEUE_URL", "OutboundDeadLetterQueue"),
                ("MEDIA_DEAD_LETTER_QUEUE_URL", "MediaDeadLetterQueue"),
                ("MEDIA_QUEUE_URL", "MediaQueue"),
            ] {
                assert_eq!(Some(&env[var]), r[queue].url.as_ref(), "{function} {var}");
            }
        }
        if function == "InboundFunction" {
            // One media job per media message.
            expected.push("MEDIA_QUEUE_URL");
            assert_eq!(
                Some(&env["MEDIA_QUEUE_URL"]),
                r["MediaQueue"].url.as_ref(),
                "{function}"
            );
        }
        expected.sort_unstable();
        assert_eq!(names, expected, "{function}");
        assert_eq!(env["TABLE_NAME"], r["Table"].name, "{function}");
        assert_eq!(
            Some(&env["INBOUND_QUEUE_URL"]),
            r["InboundQueue"].url.as_ref(),
            "{function}"
        );
        assert_eq!(
            Some(&env["OUTBOUND_QUEUE_URL"]),
            r["OutboundQueue"].url.as_ref(),
            "{function}"
        );
        assert_eq!(env["DATA_BUCKET"], r["DataBucket"].name, "{function}");
        assert!(
            env["META_SECRET_ID"].starts_with("arn:aws:secretsmanager:"),
            "{function}"
        );
        assert_eq!(
            env["GRAPH_API_BASE_URL"], "http://127.0.0.1:3001",
            "overridden"
        );
        assert_eq!(env["GRAPH_API_VERSION"], "v23.0", "default");
        assert_eq!(env["RUST_LOG"], "info", "default");
        assert_eq!(env["OUTBOUND_RETRY_BASE_SECONDS"], "5", "default");
        let config =
            switchboard_platform::Config::from_map(env).expect("the functions' config loads");
        assert_eq!(config.table_name, r["Table"].name);
    }

    assert_eq!(
        p.function_env["ApiFunction"]["CURSOR_SECRET_ID"],
        r["CursorSigningKey"].arn
    );
    assert_eq!(
        p.function_env["ApiFunction"]["OPERATOR_SECRET_ID"],
        r["OperatorKey"].arn
    );

    let bindings: Vec<(&str, &str, i32, bool, bool)> = p
        .sqs_bindings
        .iter()
        .map(|b| {
            assert_eq!(Some(&b.queue_url), r[&b.queue].url.as_ref());
            assert_eq!(b.queue_arn, r[&b.queue].arn);
            (
                b.function.as_str(),
                b.queue.as_str(),
                b.batch_size,
                b.fifo,
                b.report_batch_item_failures,
            )
        })
        .collect();
    assert_eq!(
        bindings,
        vec![
            ("InboundFunction", "InboundQueue", 10, false, true),
            ("MediaFunction", "MediaQueue", 4, false, true),
            ("OutboundFunction", "OutboundQueue", 10, true, true),
        ]
    );
    assert_eq!(
        p.function_timeouts.get("OperationsFunction"),
        Some(&std::time::Duration::from_secs(60)),
        "its own timeout, not the Globals'"
    );
    let schedules: Vec<(&str, &str)> = p
        .schedules
        .iter()
        .map(|s| (s.function.as_str(), s.expression.as_str()))
        .collect();
    assert_eq!(schedules, [("TemplateSyncFunction", "rate(1 hour)")]);

    let mut routes: Vec<(&str, &str, &str)> = p
        .http_routes
        .iter()
        .map(|r| (r.function.as_str(), r.method.as_str(), r.path.as_str()))
        .collect();
    routes.sort_unstable();
    assert_eq!(
        routes,
        vec![
            ("ApiFunction", "ANY", "/operator/{proxy+}"),
            ("ApiFunction", "ANY", "/v1/{proxy+}"),
            ("ApiFunction", "GET", "/healthz"),
            ("WebhookFunction", "GET", "/webhooks/whatsapp"),
            ("WebhookFunction", "POST", "/webhooks/whatsapp"),
        ]
    );
}

#[tokio::test]
async fn provisioning_twice_reuses_everything_and_updates_the_secret() {
    let aws = local_aws().await;
    let prefix = unique_prefix("prov-again");
    let template = template_path();
    let first = provision(&aws, &request(&template, &prefix, "first-secret"))
        .await
        .expect("first run");
    let second = provision(&aws, &request(&template, &prefix, "rotated-secret"))
        .await
        .expect("second run");
    assert_eq!(first.resources, second.resources);
    assert_eq!(first.function_env, second.function_env);
    assert_eq!(first.sqs_bindings, second.sqs_bindings);

    let secret = aws_sdk_secretsmanager::Client::new(&aws)
        .get_secret_value()
        .secret_id(&second.function_env["OutboundFunction"]["META_SECRET_ID"])
        .send()
        .await
        .expect("secret");
    assert_eq!(
        secret.secret_string(),
        Some(secret_json("rotated-secret").as_str())
    );

    // A generated secret keeps its value, as across stack updates: cursors stay valid.
    let generated = |p: &Provisioned| {
        let arn = p.resources["CursorSigningKey"].arn.clone();
        let client = aws_sdk_secretsmanager::Client::new(&aws);
        async move {
            client
                .get_secret_value()
                .secret_id(arn)
                .send()
                .await
                .expect("generated secret")
                .secret_string
        }
    };
    assert_eq!(generated(&first).await, generated(&second).await);
}

#[tokio::test]
async fn two_prefixes_get_separate_resources() {
    let aws = local_aws().await;
    let (a, b) = (unique_prefix("prov-a"), unique_prefix("prov-b"));
    let (pa, pb) = tokio::join!(provision_template(&aws, &a), provision_template(&aws, &b));
    assert_eq!(
        pa.resources.keys().collect::<Vec<_>>(),
        pb.resources.keys().collect::<Vec<_>>()
    );
    for (id, ra) in &pa.resources {
        let rb = &pb.resources[id];
        assert_ne!(ra.name, rb.name, "{id}");
        assert_ne!(ra.reference, rb.reference, "{id}");
        assert!(
            ra.name.starts_with(&a) || ra.name.starts_with(&format!("alias/{a}")),
            "{id}: {}",
            ra.name
        );
    }
    assert_ne!(
        pa.function_env["ApiFunction"]["META_SECRET_ID"],
        pb.function_env["ApiFunction"]["META_SECRET_ID"]
    );

    // An item written through one prefix's table is invisible through the other's.
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let item = |v: &str| aws_sdk_dynamodb::types::AttributeValue::S(v.to_owned());
    dynamodb
        .put_item()
        .table_name(&pa.resources["Table"].name)
        .item("pk", item("TENANT#t1"))
        .item("sk", item("PROFILE"))
        .send()
        .await
        .expect("put");
    let other = dynamodb
        .get_item()
        .table_name(&pb.resources["Table"].name)
        .key("pk", item("TENANT#t1"))
        .key("sk", item("PROFILE"))
        .send()
        .await
        .expect("get");
    assert!(other.item().is_none());
}

#[tokio::test]
async fn wrong_parameters_are_refused_naming_them() {
    let aws = local_aws().await;
    let template = template_path();
    let prefix = unique_prefix("prov-params");

    let mut no_secret = request(&template, &prefix, "x");
    no_secret.secret_params.clear();
    let err = provision(&aws, &no_secret)
        .await
        .expect_err("MetaSecretArn has no default");
    assert!(format!("{err:#}").contains("MetaSecretArn"), "{err:#}");

    let mut typo = request(&template, &prefix, "x");
    typo.parameter_overrides
        .insert("GraphApiVersoin".into(), "v24.0".into());
    let err = provision(&aws, &typo).await.expect_err("unknown parameter");
    assert!(format!("{err:#}").contains("GraphApiVersoin"), "{err:#}");

    let mut out_of_range = request(&template, &prefix, "x");
    out_of_range
        .parameter_overrides
        .insert("HttpApiAccessLogs".into(), "Sometimes".into());
    let err = provision(&aws, &out_of_range)
        .await
        .expect_err("not an allowed value");
    assert!(format!("{err:#}").contains("HttpApiAccessLogs"), "{err:#}");

    let bad_prefix = ProvisionRequest {
        prefix: "Not_Valid",
        ..request(&template, &prefix, "x")
    };
    assert!(provision(&aws, &bad_prefix).await.is_err());
}

/// A template of its own, to cover what template.yaml does not use (yet): schedules,
/// conditions, and the error for a variable that cannot be resolved locally.
#[tokio::test]
async fn schedules_conditions_and_unresolvable_variables() {
    let aws = local_aws().await;
    let prefix = unique_prefix("prov-custom");
    let dir = std::env::temp_dir().join(&prefix);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let template = dir.join("template.yaml");
    let write = |extra_env: &str| {
        std::fs::write(
            &template,
            format!(
                r#"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {{Type: String, Default: dev, AllowedValues: [dev, prod]}}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Globals:
  Function:
    Environment:
      Variables:
        JOBS_QUEUE_URL: !Ref Jobs
        JOBS_QUEUE_ARN: !GetAtt Jobs.Arn
        MODE: !If [IsProd, strict, relaxed]
        LABEL: !Sub "${{AWS::StackName}}-${{Stage}}"
{extra_env}
Resources:
  Jobs:
    Type: AWS::SQS::Queue
  ProdOnly:
    Type: AWS::SQS::Queue
    Condition: IsProd
  Logs:
    Type: AWS::Logs::LogGroup
  Sweeper:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties: {{Binary: sweeper}}
    Properties:
      Events:
        Nightly:
          Type: Schedule
          Properties: {{Schedule: "cron(0 3 * * ? *)", Input: '{{"job":"sweep"}}'}}
        Paused:
          Type: ScheduleV2
          Properties: {{ScheduleExpression: "rate(1 hour)", State: DISABLED}}
        Work:
          Type: SQS
          Properties: {{Queue: !GetAtt Jobs.Arn, BatchSize: 3}}
"#
            ),
        )
        .expect("write template")
    };
    let req = ProvisionRequest {
        template_path: &template,
        prefix: &prefix,
        parameter_overrides: BTreeMap::new(),
        secret_params: BTreeMap::new(),
    };

    write("");
    let p = provision(&aws, &req)
        .await
        .expect("custom template provisions");
    assert!(
        !p.resources.contains_key("ProdOnly"),
        "a resource whose condition is false is not created"
    );
    assert!(
        !p.resources.contains_key("Logs"),
        "unsupported types are skipped"
    );
    let env = &p.function_env["Sweeper"];
    assert_eq!(
        Some(&env["JOBS_QUEUE_URL"]),
        p.resources["Jobs"].url.as_ref()
    );
    assert_eq!(env["JOBS_QUEUE_ARN"], p.resources["Jobs"].arn);
    assert_eq!(env["MODE"], "relaxed");
    assert_eq!(env["LABEL"], format!("{prefix}-dev"));
    assert_eq!(p.function_binaries["Sweeper"], "sweeper");
    assert_eq!(p.schedules.len(), 1, "the disabled schedule is left out");
    assert_eq!(p.schedules[0].function, "Sweeper");
    assert_eq!(p.schedules[0].expression, "cron(0 3 * * ? *)");
    assert_eq!(p.schedules[0].input.as_deref(), Some(r#"{"job":"sweep"}"#));
    assert_eq!(p.sqs_bindings.len(), 1);
    assert_eq!(p.sqs_bindings[0].batch_size, 3);
    assert!(!p.sqs_bindings[0].report_batch_item_failures);

    write("        LOG_GROUP: !Ref Logs");
    let err = provision(&aws, &req)
        .await
        .expect_err("a log group is not created locally");
    let message = format!("{err:#}");
    assert!(
        message.contains("LOG_GROUP") && message.contains("Logs"),
        "{message}"
    );

    let _ = std::fs::remove_dir_all(&dir);
}
