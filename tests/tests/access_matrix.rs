//! Every route × every kind of caller × (own tenant, foreign tenant), from the API's own access
//! table: allowed callers get past authorization, others get 401 (no credentials) or 403 (not
//! allowed), and another tenant's ids are 404 with nothing of the owner's in the answer.

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_api::{Access, RULES};
use switchboard_domain::{Role, Scope};
use switchboard_e2e::{
    ADMIN_EMAIL, ADMIN_PASSWORD, API_KEY, Auth, PHONE_NUMBER_ID, TestStack, spawn_stack,
    text_message_webhook,
};

const PASSWORD: &str = "a long enough passphrase";

#[derive(Debug, Clone)]
enum Who {
    Anonymous,
    Person(Role),
    Key(Vec<Scope>),
    /// The platform operator's key: it opens the operator routes and nothing else.
    Operator,
}

impl Who {
    fn may(&self, access: Access) -> bool {
        match (self, access) {
            (_, Access::Public) => true,
            (Who::Operator, Access::Operator) => true,
            (_, Access::Operator) => false,
            (Who::Operator, _) => false,
            (Who::Anonymous, _) => false,
            (Who::Person(_), Access::Person) => true,
            (Who::Key(_), Access::Person) => false,
            (Who::Person(role), Access::Allowed(p)) => role.allows(p),
            (Who::Key(scopes), Access::Allowed(p)) => {
                Scope::granting(p).is_some_and(|s| scopes.contains(&s))
            }
        }
    }
}

struct Fixture {
    conversation: String,
    message: String,
    user: String,
}

async fn fixture(t: &TestStack, admin: &str) -> Fixture {
    let body = text_message_webhook(
        PHONE_NUMBER_ID,
        "15551230000",
        "wamid.matrix1",
        1_767_000_000,
        "hello",
    );
    assert_eq!(t.post_signed(body.to_string().as_bytes()).await, 200);
    let conversation = t.first_conversation().await;
    let message = t.messages(&conversation).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let user = t
        .add_person(admin, "target@acme.example", "agent", PASSWORD)
        .await;
    Fixture {
        conversation,
        message,
        user,
    }
}

async fn new_key(t: &TestStack, admin: &str, scopes: &[&str]) -> (String, String) {
    let (status, _, body) = t
        .call(
            Method::POST,
            "/v1/api-keys",
            Auth::Bearer(admin),
            Some(&json!({"name": "matrix", "scopes": scopes})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    (
        body["id"].as_str().unwrap().to_owned(),
        body["secret"].as_str().unwrap().to_owned(),
    )
}

const UNCONNECTED_NUMBER: &str = "100000000000009";

fn concrete(path: &str, f: &Fixture, key_id: &str) -> String {
    let id = if path.starts_with("/v1/conversations") {
        &f.conversation
    } else if path.starts_with("/v1/messages") {
        &f.message
    } else if path.starts_with("/v1/users") {
        &f.user
    } else if path.starts_with("/v1/api-keys") {
        key_id
    } else {
        "unused"
    };
    path.replace("{id}", id)
        // A number no one connected: an allowed DELETE must not disconnect the tenant's own.
        .replace("{phone_number_id}", UNCONNECTED_NUMBER)
        // A template no one created: an allowed DELETE finds nothing to delete.
        .replace("{name}", "no_such_template")
}

/// A body that gets past authorization; validation may still refuse it (422), which proves
/// the caller was let through.
fn body_for(method: &str, path: &str) -> Option<Value> {
    match (method, path) {
        ("GET" | "DELETE", _) => None,
        ("POST", "/v1/messages") => Some(json!({
            "phone_number_id": PHONE_NUMBER_ID, "to": "15551230000", "type": "text", "text": {"body": "hi"}
        })),
        ("POST", "/v1/users") => Some(json!({
            "name": "New", "email": format!("new-{}@example.com", ulid::Ulid::new()), "role": "agent"
        })),
        ("POST", "/v1/api-keys") => Some(json!({"name": "k", "scopes": ["conversations:read"]})),
        ("PATCH", "/v1/users/{id}") => Some(json!({"name": "Renamed"})),
        _ => Some(json!({})),
    }
}

#[tokio::test]
async fn every_route_answers_every_caller_as_declared() {
    assert_eq!(
        switchboard_api::served_routes().len(),
        RULES.len(),
        "every served route has a rule"
    );
    let t = spawn_stack().await;
    let admin = t.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let f = fixture(&t, &admin).await;
    t.add_person(&admin, "m@acme.example", "manager", PASSWORD)
        .await;
    t.add_person(&admin, "a@acme.example", "agent", PASSWORD)
        .await;
    let manager = t.access_token("m@acme.example", PASSWORD).await;
    let agent = t.access_token("a@acme.example", PASSWORD).await;
    let (_, templates_only) = new_key(&t, &admin, &["templates:manage"]).await;

    let callers: Vec<(Who, String)> = vec![
        (Who::Anonymous, String::new()),
        (Who::Person(Role::Admin), admin.clone()),
        (Who::Person(Role::Manager), manager),
        (Who::Person(Role::Agent), agent),
        (Who::Key(Scope::ALL.to_vec()), API_KEY.to_owned()),
        (Who::Key(vec![Scope::TemplatesManage]), templates_only),
        (Who::Operator, t.operator_key().await),
    ];
    let mut checked = 0;
    for rule in RULES {
        for (who, token) in &callers {
            // Revocation spends a key: each call gets its own.
            let (key_id, _) = new_key(&t, &admin, &["conversations:read"]).await;
            let path = concrete(rule.path, &f, &key_id);
            let method = Method::from_bytes(rule.method.as_bytes()).unwrap();
            let auth = match who {
                Who::Anonymous => Auth::None,
                _ => Auth::Bearer(token),
            };
            let body = body_for(rule.method, rule.path);
            let (status, _, answer) = t.call(method, &path, auth, body.as_ref()).await;
            let what = format!("{} {path} as {who:?}: {status} {answer}", rule.method);
            let status = status.as_u16();
            if who.may(rule.access) {
                assert!(status < 500, "{what}");
                assert!(status != 403, "{what}");
                if rule.access != Access::Public {
                    assert!(status != 401, "{what}");
                }
            } else if matches!(who, Who::Anonymous | Who::Operator) {
                // The operator key is no tenant credential: to tenant routes it is no
                // credential at all.
                assert_eq!(status, 401, "{what}");
            } else {
                assert_eq!(status, 403, "{what}");
                assert_eq!(answer["type"], "/problems/forbidden", "{what}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, RULES.len() * callers.len());

    // Another tenant's admin holds every permission, in its own tenant only.
    let (status, _, _) = t
        .call(
            Method::POST,
            "/v1/auth/signup",
            Auth::None,
            Some(&json!({"business_name": "Globex", "name": "Gus", "email": "gus@globex.example", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 202);
    let foreign = t.access_token("gus@globex.example", PASSWORD).await;
    let (acme_key, _) = new_key(&t, &admin, &["conversations:read"]).await;
    let acme_ids = [&f.conversation, &f.message, &f.user, &acme_key];
    for rule in RULES {
        let Access::Allowed(permission) = rule.access else {
            continue;
        };
        assert!(Role::Admin.allows(permission));
        let path = concrete(rule.path, &f, &acme_key);
        let method = Method::from_bytes(rule.method.as_bytes()).unwrap();
        let body = body_for(rule.method, rule.path);
        let (status, _, answer) = t
            .call(method, &path, Auth::Bearer(&foreign), body.as_ref())
            .await;
        let what = format!(
            "{} {path} as another tenant: {status} {answer}",
            rule.method
        );
        if ["{id}", "{phone_number_id}", "{name}"]
            .iter()
            .any(|p| rule.path.contains(p))
        {
            assert_eq!(status, 404, "{what}");
        } else {
            assert!(status.as_u16() < 500, "{what}");
        }
        let text = answer.to_string();
        for id in acme_ids {
            assert!(!text.contains(id.as_str()), "{what} shows {id}");
        }
        assert!(!text.contains("acme.example"), "{what}");
    }
    // Nor can it disconnect the other tenant's number.
    let (status, _, answer) = t
        .call(
            Method::DELETE,
            &format!("/v1/channels/whatsapp/{PHONE_NUMBER_ID}"),
            Auth::Bearer(&foreign),
            None,
        )
        .await;
    assert_eq!(status, 404, "{answer}");
    let (_, _, channels) = t
        .call(Method::GET, "/v1/channels", Auth::Bearer(&admin), None)
        .await;
    assert_eq!(
        channels["channels"][0]["phone_number_id"], PHONE_NUMBER_ID,
        "{channels}"
    );
    // Ids in bodies are checked too: a reply into the other tenant's conversation is answered
    // exactly as one into a conversation that does not exist.
    let reply = |conversation: &str| json!({"conversation_id": conversation, "type": "text", "text": {"body": "hi"}});
    let (status, _, answer) = t
        .call(
            Method::POST,
            "/v1/messages",
            Auth::Bearer(&foreign),
            Some(&reply(&f.conversation)),
        )
        .await;
    let (unknown_status, _, unknown) = t
        .call(
            Method::POST,
            "/v1/messages",
            Auth::Bearer(&foreign),
            Some(&reply("conv_does_not_exist")),
        )
        .await;
    assert!(status.is_client_error(), "{answer}");
    assert_eq!((status, &answer), (unknown_status, &unknown));
    // And the number: globex cannot send from acme's number.
    let (status, _, answer) = t
        .call(
            Method::POST,
            "/v1/messages",
            Auth::Bearer(&foreign),
            Some(&json!({"phone_number_id": PHONE_NUMBER_ID, "to": "15551230000", "type": "text", "text": {"body": "hi"}})),
        )
        .await;
    assert!(
        [403, 404, 422].contains(&status.as_u16()),
        "{status} {answer}"
    );
}
