#!/usr/bin/env python3
"""Writes the sample Lambda events in events/. Signatures use the dev app secret from
.env.example, so `cargo lambda invoke webhook --data-file events/webhook-post-text-message.json`
verifies against a locally configured function. Run again after changing a sample."""
import base64, hashlib, hmac, json, pathlib, time

ROOT = pathlib.Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
APP_SECRET = b"dev-app-secret"
VERIFY_TOKEN = "dev-verify-token"
API_KEY = "sk_dev_demo_0123456789abcdef"
PNID, DISPLAY, WABA = "106540352242922", "15550783881", "102290129340398"
T = 1763800000


def http_event(method, path, query="", headers=None, body=None):
    headers = {"content-type": "application/json", "user-agent": "facebookexternalua", **(headers or {})}
    qs = {}
    for part in filter(None, query.split("&")):
        k, _, v = part.partition("=")
        qs[k] = v
    event = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api-id",
            "domainName": "api-id.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "api-id",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "173.252.127.1", "userAgent": headers["user-agent"]},
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": "22/Nov/2026:10:00:00 +0000",
            "timeEpoch": T * 1000,
        },
        "isBase64Encoded": False,
    }
    if qs:
        event["queryStringParameters"] = qs
    if body is not None:
        event["body"] = body
    return event


def signed_post(body_obj):
    body = json.dumps(body_obj, separators=(",", ":"))
    sig = "sha256=" + hmac.new(APP_SECRET, body.encode(), hashlib.sha256).hexdigest()
    return http_event("POST", "/webhooks/whatsapp", headers={"x-hub-signature-256": sig}, body=body)


text_message = {
    "object": "whatsapp_business_account",
    "entry": [{"id": WABA, "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY, "phone_number_id": PNID},
        "contacts": [{"profile": {"name": "Ada"}, "wa_id": "15551234567"}],
        "messages": [{"from": "15551234567", "id": "wamid.HBgLMTU1NTEyMzQ1NjcVAgASGBQzQUVBNUI0RjU0QjY1NzhGNUVBNwA=",
                      "timestamp": str(T), "type": "text", "text": {"body": "Is my order ready?"}}]}}]}],
}
status_read = {
    "object": "whatsapp_business_account",
    "entry": [{"id": WABA, "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY, "phone_number_id": PNID},
        "statuses": [{"id": "wamid.HBgLMTU1NTEyMzQ1NjcVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA", "status": "read",
                      "timestamp": str(T + 5), "recipient_id": "15551234567"}]}}]}],
}

samples = {
    "webhook-verify.json": http_event("GET", "/webhooks/whatsapp",
                                      f"hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"),
    "webhook-post-text-message.json": signed_post(text_message),
    "webhook-post-status-read.json": signed_post(status_read),
    "webhook-post-bad-signature.json": http_event(
        "POST", "/webhooks/whatsapp", headers={"x-hub-signature-256": "sha256=" + "0" * 64},
        body=json.dumps(text_message, separators=(",", ":"))),
    "api-healthz.json": http_event("GET", "/healthz"),
    "api-list-conversations.json": http_event("GET", "/v1/conversations", "limit=20",
                                              headers={"authorization": f"Bearer {API_KEY}"}),
    "api-send-message.json": http_event(
        "POST", "/v1/messages", headers={"authorization": f"Bearer {API_KEY}", "idempotency-key": "order-42-ready"},
        body=json.dumps({"phone_number_id": PNID, "to": "15551234567", "text": {"body": "Yes, ready for pickup!"}})),
}


def sqs_record(body, arn, n=1, group=None):
    attrs = {"ApproximateReceiveCount": str(n), "SentTimestamp": str(T * 1000), "SenderId": "AROAEXAMPLE",
             "ApproximateFirstReceiveTimestamp": str(T * 1000 + 1)}
    if group:
        attrs.update({"MessageGroupId": group, "MessageDeduplicationId": json.loads(body)["message_id"],
                      "SequenceNumber": "18849496460467696128"})
    return {"messageId": hashlib.md5(body.encode()).hexdigest(), "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
            "body": body, "attributes": attrs, "messageAttributes": {}, "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
            "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": "us-east-1"}


job = json.dumps({"tenant_id": "demo", "message_id": "msg_01jb6z2d3k7y9w5q8r4t6v2x0m"})
samples["outbound-batch.json"] = {"Records": [sqs_record(
    job, "arn:aws:sqs:us-east-1:123456789012:switchboard-OutboundQueue.fifo", group="demo:wa:15551234567")]}

INBOUND = EVENTS / "inbound-bodies"
if INBOUND.exists():
    # Bodies are WebhookEvent JSON as the webhook enqueues them (written by the model's tests).
    records = [sqs_record(p.read_text().strip(), "arn:aws:sqs:us-east-1:123456789012:switchboard-InboundQueue")
               for p in sorted(INBOUND.glob("*.json"))]
    samples["inbound-batch.json"] = {"Records": records}

EVENTS.mkdir(exist_ok=True)
for name, event in samples.items():
    (EVENTS / name).write_text(json.dumps(event, indent=2) + "\n")
    print("wrote", EVENTS / name)
