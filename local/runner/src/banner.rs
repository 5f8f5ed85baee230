//! What `make dev` prints once everything is up.

use crate::stack::RunningStack;

/// `operator_key`: [`RunningStack::operator_key`]; a dev stack's key is printed so the
/// operator routes can be tried.
pub fn banner(stack: &RunningStack, operator_key: Option<&str>) -> String {
    let s = &stack.settings;
    let sandbox = stack
        .sandbox
        .as_ref()
        .map(|sb| sb.base_url.clone())
        .unwrap_or_else(|| "(not started)".into());
    let base = &stack.base_url;
    let operator = match operator_key {
        Some(key) => format!(
            r#"
6. Act as the platform operator (the key is the OperatorKey secret): suspend the demo tenant,
   see POST /v1/messages answer 403 /problems/suspended, then resume it:
     curl -s -X POST {base}/operator/tenants/{tenant}/suspend -H 'authorization: Bearer {key}' -H 'content-type: application/json' -d '{{"reason":"Spam reports under review"}}'
     curl -s -X POST {base}/operator/tenants/{tenant}/resume -H 'authorization: Bearer {key}'
"#,
            tenant = s.demo.tenant_id,
        ),
        None => String::new(),
    };
    format!(
        r#"
Switchboard is running locally.

  HTTP (webhook + API)   {base}
  Webhook URL            {base}/webhooks/whatsapp
  Webhook verify token   {verify}
  Meta sandbox           {sandbox}
  Demo tenant            {tenant}  (phone_number_id {pnid}, display {display}, WABA {waba})
  API key                {key}   (every scope)
  Demo admin             {admin_email} / {admin_password}

1. Simulate a customer writing in:
     cargo run -q -p meta-sandbox -- customer-message --sandbox-url {sandbox} --from 15551234567 --name Ada --text "Hi, is my order ready?"
   or: curl -s -X POST {sandbox}/sandbox/customer-messages -H 'content-type: application/json' -d '{{"from":"15551234567","name":"Ada","text":"Hi, is my order ready?"}}'

2. See the conversation and its messages:
     curl -s {base}/v1/conversations -H 'authorization: Bearer {key}'
     curl -s {base}/v1/conversations/<conversation id>/messages -H 'authorization: Bearer {key}'

3. Reply; the sandbox answers with sent, delivered and read status webhooks:
     curl -s -X POST {base}/v1/messages -H 'authorization: Bearer {key}' -H 'content-type: application/json' -d '{{"conversation_id":"<conversation id>","text":{{"body":"Yes, ready for pickup!"}}}}'

4. Sign in as the demo admin (an access token for 15 minutes, a refresh token to renew it):
     curl -s -X POST {base}/v1/auth/login -H 'content-type: application/json' -d '{{"email":"{admin_email}","password":"{admin_password}"}}'
     curl -s {base}/v1/me -H 'authorization: Bearer <access_token>'

5. Connect another number as a business would through Embedded Signup: mint a code in the
   sandbox, then hand it to the API as the demo admin (the answer shows the number and the PIN
   set for it):
     curl -s -X POST {sandbox}/sandbox/signup-codes -H 'content-type: application/json' -d '{{"waba_id":"209000000000001","phone_number_id":"119000000000001","display_phone_number":"+1 555-010-2000","verified_name":"Demo Two"}}'
     curl -s -X POST {base}/v1/channels/whatsapp -H 'authorization: Bearer <access_token>' -H 'content-type: application/json' -d '{{"code":"<code>","waba_id":"209000000000001","phone_number_id":"119000000000001"}}'
     curl -s {base}/v1/channels -H 'authorization: Bearer <access_token>'
{operator}
The whole API is described at {base}/v1/openapi.json (Graph API: {graph}).
Ctrl-C stops everything.
"#,
        verify = s.verify_token,
        graph = s.graph_api_base_url.as_deref().unwrap_or("the sandbox's"),
        tenant = s.demo.tenant_id,
        pnid = s.demo.phone_number_id,
        display = s.demo.display_phone_number,
        waba = s.demo.waba_id,
        key = s.demo.api_key,
        admin_email = s.demo.admin_email,
        admin_password = s.demo.admin_password,
    )
}
