//! Accounts end to end: sign-up, sign-in, refresh rotation and reuse, sign-out, password
//! change, brute-force limits, forged tokens, console sessions with CSRF, people and API keys.

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_e2e::{ADMIN_EMAIL, ADMIN_PASSWORD, API_KEY, Auth, TestStack, spawn_stack};
use time::Duration;

const PASSWORD: &str = "a long enough passphrase";

async fn post(t: &TestStack, path: &str, auth: Auth<'_>, body: Value) -> (u16, Value) {
    let (status, _, body) = t.call(Method::POST, path, auth, Some(&body)).await;
    (status.as_u16(), body)
}

async fn get(t: &TestStack, path: &str, auth: Auth<'_>) -> (u16, Value) {
    let (status, _, body) = t.call(Method::GET, path, auth, None).await;
    (status.as_u16(), body)
}

fn s(v: &Value) -> &str {
    v.as_str().expect("a string")
}

#[tokio::test]
async fn sign_up_sign_in_refresh_rotation_and_sign_out() {
    let t = spawn_stack().await;
    let signup = json!({
        "business_name": "Blue Bottle", "name": "Bea", "email": "Bea@Example.com ", "password": PASSWORD
    });
    let (status, first) = post(&t, "/v1/auth/signup", Auth::None, signup.clone()).await;
    assert_eq!(status, 202, "{first}");
    // The same address again: the same answer, nothing about the account it already has.
    let (status, again) = post(&t, "/v1/auth/signup", Auth::None, signup).await;
    assert_eq!((status, &again), (202, &first));
    let (status, weak) = post(
        &t,
        "/v1/auth/signup",
        Auth::None,
        json!({"business_name": "X", "name": "X", "email": "x@example.com", "password": "short"}),
    )
    .await;
    assert_eq!((status, s(&weak["errors"][0]["field"])), (422, "password"));

    let tokens = t.login("bea@example.com", PASSWORD).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    let access = s(&tokens["access_token"]).to_owned();
    let (status, me) = get(&t, "/v1/me", Auth::Bearer(&access)).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["user"]["role"], "admin");
    assert_eq!(me["user"]["email"], "bea@example.com");
    assert_eq!(me["tenant"]["name"], "Blue Bottle");
    assert!(me["user"].get("password_hash").is_none());
    let tenant = s(&me["tenant"]["id"]).to_owned();
    assert_ne!(tenant, "acme");

    // A wrong password and an unknown address get the same answer.
    let (s1, wrong) = post(
        &t,
        "/v1/auth/login",
        Auth::None,
        json!({"email": "bea@example.com", "password": "not the passphrase"}),
    )
    .await;
    let (s2, unknown) = post(
        &t,
        "/v1/auth/login",
        Auth::None,
        json!({"email": "nobody@example.com", "password": "not the passphrase"}),
    )
    .await;
    assert_eq!((s1, &wrong), (s2, &unknown));
    assert_eq!(s1, 401);
    assert_eq!(wrong["type"], "/problems/invalid-credentials");

    // Refresh rotates: the new token works, the old one is now reuse and ends the sign-in.
    let r1 = s(&tokens["refresh_token"]).to_owned();
    let (status, rotated) = post(
        &t,
        "/v1/auth/refresh",
        Auth::None,
        json!({"refresh_token": r1}),
    )
    .await;
    assert_eq!(status, 200, "{rotated}");
    let r2 = s(&rotated["refresh_token"]).to_owned();
    assert_ne!(r1, r2);
    let (status, _) = get(&t, "/v1/me", Auth::Bearer(s(&rotated["access_token"]))).await;
    assert_eq!(status, 200);
    let (status, reuse) = post(
        &t,
        "/v1/auth/refresh",
        Auth::None,
        json!({"refresh_token": r1}),
    )
    .await;
    assert_eq!(status, 401, "{reuse}");
    let (status, _) = post(
        &t,
        "/v1/auth/refresh",
        Auth::None,
        json!({"refresh_token": r2}),
    )
    .await;
    assert_eq!(status, 401, "the whole family is revoked after a reuse");
    // A forged token naming another tenant finds nothing.
    let forged = r2.replacen(&tenant, "acme", 1);
    let (status, _) = post(
        &t,
        "/v1/auth/refresh",
        Auth::None,
        json!({"refresh_token": forged}),
    )
    .await;
    assert_eq!(status, 401);

    // Sign-out ends the sign-in.
    let tokens = t.login("bea@example.com", PASSWORD).await;
    let (status, _, _) = t
        .call(
            Method::POST,
            "/v1/auth/logout",
            Auth::None,
            Some(&json!({"refresh_token": tokens["refresh_token"]})),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = post(
        &t,
        "/v1/auth/refresh",
        Auth::None,
        json!({"refresh_token": tokens["refresh_token"]}),
    )
    .await;
    assert_eq!(status, 401);

    // A password change ends every sign-in, also the access tokens still in their 15 minutes.
    let tokens = t.login("bea@example.com", PASSWORD).await;
    let access = s(&tokens["access_token"]).to_owned();
    let (status, body) = post(
        &t,
        "/v1/auth/password",
        Auth::Bearer(&access),
        json!({"current_password": "wrong current one", "new_password": "another long passphrase"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = post(
        &t,
        "/v1/auth/password",
        Auth::Bearer(&access),
        json!({"current_password": PASSWORD, "new_password": "another long passphrase"}),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = get(&t, "/v1/me", Auth::Bearer(&access)).await;
    assert_eq!(status, 401);
    let (status, _) = post(
        &t,
        "/v1/auth/refresh",
        Auth::None,
        json!({"refresh_token": tokens["refresh_token"]}),
    )
    .await;
    assert_eq!(status, 401);
    t.login("bea@example.com", "another long passphrase").await;
    // API keys have no password.
    let (status, _) = post(
        &t,
        "/v1/auth/password",
        Auth::Bearer(API_KEY),
        json!({"current_password": PASSWORD, "new_password": "another long passphrase"}),
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn brute_force_sign_in_is_slowed_and_forged_tokens_are_refused() {
    let t = spawn_stack().await;
    let bad = json!({"email": ADMIN_EMAIL, "password": "guess guess guess"});
    for attempt in 1..=10 {
        let (status, body) = post(&t, "/v1/auth/login", Auth::None, bad.clone()).await;
        assert_eq!(status, 401, "attempt {attempt}: {body}");
    }
    // The 11th within the minute is refused before any password is checked: even the right one.
    for body in [
        bad.clone(),
        json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
    ] {
        let (status, headers, problem) = t
            .call(Method::POST, "/v1/auth/login", Auth::None, Some(&body))
            .await;
        assert_eq!(status, 429, "{problem}");
        assert_eq!(problem["type"], "/problems/too-many-requests");
        let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&wait), "Retry-After {wait}");
    }
    // After the wait one more try is allowed; failing it doubles the wait.
    t.stack.clock.skip(Duration::seconds(61));
    let (status, _) = post(&t, "/v1/auth/login", Auth::None, bad.clone()).await;
    assert_eq!(status, 401);
    let (_, headers, _) = t
        .call(Method::POST, "/v1/auth/login", Auth::None, Some(&bad))
        .await;
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((61..=120).contains(&wait), "Retry-After {wait}");
    t.stack.clock.skip(Duration::seconds(121));
    let access = t.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(get(&t, "/v1/me", Auth::Bearer(&access)).await.0, 200);

    // Forged access tokens: payload edited, `alg: none`, garbage, and one past its 15 minutes.
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    let mut parts = access.split('.');
    let (head, payload, sig) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let claims: Value = serde_json::from_slice(&B64.decode(payload).unwrap()).unwrap();
    let mut edited = claims.clone();
    edited["tid"] = json!("some-other-tenant");
    let edited = B64.encode(edited.to_string());
    let none_head = B64.encode(r#"{"alg":"none","typ":"JWT"}"#);
    for forged in [
        format!("{head}.{edited}.{sig}"),
        format!("{none_head}.{payload}."),
        format!("{none_head}.{edited}."),
        "not-a-token".to_owned(),
    ] {
        let (status, body) = get(&t, "/v1/me", Auth::Bearer(&forged)).await;
        assert_eq!(status, 401, "{forged}: {body}");
    }
    t.stack.clock.skip(Duration::minutes(16));
    assert_eq!(get(&t, "/v1/me", Auth::Bearer(&access)).await.0, 401);
}

#[tokio::test]
async fn console_sessions_use_a_strict_cookie_and_need_the_csrf_token() {
    let t = spawn_stack().await;
    let (status, headers, body) = t
        .call(
            Method::POST,
            "/v1/auth/login",
            Auth::None,
            Some(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "session": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let set_cookie: Vec<_> = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(set_cookie.len(), 1, "the session is the only cookie");
    let c = &set_cookie[0];
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(c.contains(attribute), "{c} lacks {attribute}");
    }
    let cookie = c
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_owned())
        .unwrap();
    let csrf = s(&body["csrf_token"]).to_owned();

    // Safe requests need the cookie only.
    let (status, me) = get(
        &t,
        "/v1/me",
        Auth::Session {
            cookie: &cookie,
            csrf: None,
        },
    )
    .await;
    assert_eq!((status, s(&me["signed_in_with"])), (200, "session"));
    // Unsafe ones also the CSRF token.
    let invite = json!({"name": "Ana", "email": "ana@acme.example", "role": "agent"});
    let (status, problem) = post(
        &t,
        "/v1/users",
        Auth::Session {
            cookie: &cookie,
            csrf: None,
        },
        invite.clone(),
    )
    .await;
    assert_eq!((status, s(&problem["type"])), (403, "/problems/csrf"));
    let (status, _) = post(
        &t,
        "/v1/users",
        Auth::Session {
            cookie: &cookie,
            csrf: Some("forged"),
        },
        invite.clone(),
    )
    .await;
    assert_eq!(status, 403);
    // From another origin, even with the token.
    let res = t
        .http
        .post(format!("{}/v1/users", t.base()))
        .header(
            "cookie",
            format!("{}={cookie}", switchboard_api::SESSION_COOKIE),
        )
        .header(switchboard_api::CSRF_HEADER, &csrf)
        .header("origin", "https://evil.example")
        .json(&invite)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let (status, body) = post(
        &t,
        "/v1/users",
        Auth::Session {
            cookie: &cookie,
            csrf: Some(&csrf),
        },
        invite,
    )
    .await;
    assert_eq!(status, 201, "{body}");

    // Sign-out ends the session and clears the cookie.
    let res = t
        .http
        .post(format!("{}/v1/auth/logout", t.base()))
        .header(
            "cookie",
            format!("{}={cookie}", switchboard_api::SESSION_COOKIE),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let cleared = res.headers()["set-cookie"].to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let (status, _) = get(
        &t,
        "/v1/me",
        Auth::Session {
            cookie: &cookie,
            csrf: None,
        },
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn people_roles_and_api_keys() {
    let t = spawn_stack().await;
    let admin = t.access_token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let manager_id = t
        .add_person(&admin, "max@acme.example", "manager", PASSWORD)
        .await;
    let manager = t.access_token("max@acme.example", PASSWORD).await;
    // A manager invites agents, never managers or admins.
    for role in ["admin", "manager"] {
        let (status, _) = post(
            &t,
            "/v1/users",
            Auth::Bearer(&manager),
            json!({"name": "X", "email": format!("{role}2@acme.example"), "role": role}),
        )
        .await;
        assert_eq!(status, 403, "a manager inviting a {role}");
    }
    let agent_id = t
        .add_person(&manager, "ana@acme.example", "agent", PASSWORD)
        .await;
    let agent = t.access_token("ana@acme.example", PASSWORD).await;
    let (status, _) = post(
        &t,
        "/v1/users",
        Auth::Bearer(&agent),
        json!({"name": "X", "email": "x@acme.example", "role": "agent"}),
    )
    .await;
    assert_eq!(status, 403, "agents invite nobody");
    // An address that already signs in cannot be invited again.
    let (status, _) = post(
        &t,
        "/v1/users",
        Auth::Bearer(&admin),
        json!({"name": "X", "email": "ANA@acme.example", "role": "agent"}),
    )
    .await;
    assert_eq!(status, 409);
    // An invitation is accepted once.
    let (status, invited) = post(
        &t,
        "/v1/users",
        Auth::Bearer(&admin),
        json!({"name": "Ola", "email": "ola@acme.example", "role": "agent"}),
    )
    .await;
    assert_eq!(status, 201);
    let accept = json!({"token": invited["invitation_token"], "password": PASSWORD});
    assert_eq!(
        post(
            &t,
            "/v1/auth/invitations/accept",
            Auth::None,
            accept.clone()
        )
        .await
        .0,
        204
    );
    assert_eq!(
        post(&t, "/v1/auth/invitations/accept", Auth::None, accept)
            .await
            .0,
        422
    );

    let (status, users) = get(&t, "/v1/users", Auth::Bearer(&agent)).await;
    assert_eq!(status, 200);
    assert_eq!(users["data"].as_array().unwrap().len(), 4);
    assert!(users.to_string().find("password").is_none());

    // Role changes: a manager cannot touch another manager; nobody changes their own role.
    let (status, _, _) = t
        .call(
            Method::PATCH,
            &format!("/v1/users/{manager_id}"),
            Auth::Bearer(&manager),
            Some(&json!({"role": "agent"})),
        )
        .await;
    assert_eq!(status, 422, "own role");
    let (status, _, body) = t
        .call(
            Method::PATCH,
            &format!("/v1/users/{agent_id}"),
            Auth::Bearer(&admin),
            Some(&json!({"role": "manager"})),
        )
        .await;
    assert_eq!((status.as_u16(), &body["role"]), (200, &json!("manager")));
    // The old token carried the old role: it is refused.
    assert_eq!(get(&t, "/v1/me", Auth::Bearer(&agent)).await.0, 401);
    let (status, _, body) = t
        .call(
            Method::PATCH,
            &format!("/v1/users/{agent_id}"),
            Auth::Bearer(&admin),
            Some(&json!({"status": "deactivated"})),
        )
        .await;
    assert_eq!(
        (status.as_u16(), &body["status"]),
        (200, &json!("deactivated"))
    );
    let (status, _) = post(
        &t,
        "/v1/auth/login",
        Auth::None,
        json!({"email": "ana@acme.example", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 401, "a deactivated person cannot sign in");

    // API keys: shown once, scoped, listed without the secret, revocable.
    let (status, created) = post(
        &t,
        "/v1/api-keys",
        Auth::Bearer(&admin),
        json!({"name": "reporting", "scopes": ["conversations:read"]}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let secret = s(&created["secret"]).to_owned();
    assert!(secret.starts_with("sk_live_"));
    assert_eq!(
        get(&t, "/v1/conversations", Auth::Bearer(&secret)).await.0,
        200
    );
    let (status, problem) = post(
        &t,
        "/v1/messages",
        Auth::Bearer(&secret),
        json!({"phone_number_id": "106540352242922", "to": "15551234567", "type": "text", "text": {"body": "hi"}}),
    )
    .await;
    assert_eq!(status, 403, "{problem}");
    assert!(s(&problem["detail"]).contains("messages:send"));
    assert_eq!(get(&t, "/v1/api-keys", Auth::Bearer(&secret)).await.0, 403);
    assert_eq!(get(&t, "/v1/api-keys", Auth::Bearer(&manager)).await.0, 403);
    let (status, listed) = get(&t, "/v1/api-keys", Auth::Bearer(&admin)).await;
    assert_eq!(status, 200);
    assert!(
        !listed.to_string().contains(&secret),
        "the secret is shown once"
    );
    let key = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == created["id"])
        .expect("the new key is listed");
    assert!(!key["last_used_at"].is_null(), "its use was recorded");
    let (status, _, _) = t
        .call(
            Method::DELETE,
            &format!("/v1/api-keys/{}", s(&created["id"])),
            Auth::Bearer(&admin),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        get(&t, "/v1/conversations", Auth::Bearer(&secret)).await.0,
        401
    );

    // The audit log saw it all, for admins only.
    assert_eq!(get(&t, "/v1/audit", Auth::Bearer(&manager)).await.0, 403);
    let (status, audit) = get(&t, "/v1/audit?limit=100", Auth::Bearer(&admin)).await;
    assert_eq!(status, 200, "{audit}");
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(&e["action"]))
        .collect();
    for expected in [
        "auth.login",
        "auth.login_failed",
        "user.invited",
        "user.invitation_accepted",
        "user.role_changed",
        "user.deactivated",
        "api_key.created",
        "api_key.revoked",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    assert!(!audit.to_string().contains(PASSWORD));
}
