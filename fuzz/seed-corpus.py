#!/usr/bin/env python3
"""Seeds the fuzz corpora under target/fuzz-corpus/ (git-ignored) at run time.

Third-party payloads are read from the conformance folder (`../shared/conformance`, or
SWITCHBOARD_CONFORMANCE_DIR) and never copied into the repository; the few seeds written here
inline are our own. Seeds are named by content hash, so running this again adds nothing twice
and libFuzzer's own finds in the same folders are kept.

usage: seed-corpus.py CONFORMANCE_DIR CORPUS_DIR
"""

import hashlib
import json
import pathlib
import sys

OWN_API_BODIES = [
    {"conversation_id": "01JC7Z5N8Y6W9X4V3T2S1R0Q9P", "text": {"body": "Ready for pickup!"}},
    {"phone_number_id": "106540352242922", "to": "+15551234567", "text": {"body": "Hi"}},
    {"phone_number_id": "106540352242922", "to": "US.13491208655302741918",
     "type": "text", "text": {"body": "Grüße 👋", "preview_url": True}},
    {"phone_number_id": "106540352242922", "to": "15551234567", "text": {"body": " "}},
    {"conversation_id": "c", "phone_number_id": "p", "to": "t", "text": {}},
]

OWN_GRAPH_BODIES = [
    {"messaging_product": "whatsapp",
     "contacts": [{"input": "+16505551234", "wa_id": "16505551234"}],
     "messages": [{"id": "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"}]},
    {"messaging_product": "whatsapp",
     "contacts": [{"input": "US.13491208655302741918", "user_id": "US.13491208655302741918"}],
     "messages": [{"id": "wamid.x", "message_status": "accepted"}]},
    {"error": {"message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429,
               "error_data": {"messaging_product": "whatsapp", "details": "Too many messages"},
               "error_subcode": 2494055, "is_transient": True, "fbtrace_id": "Az8or2yhqkZfEZ"}},
    {"error": {"message": "(#131047) Re-engagement message", "code": 131047}},
]


def write(folder: pathlib.Path, data: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


def json_files(folder: pathlib.Path):
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def main() -> int:
    conformance, corpus = (pathlib.Path(a) for a in sys.argv[1:3])
    if not conformance.is_dir():
        print(f"WARNING: no conformance data at {conformance}: fuzzing from our own seeds only",
              file=sys.stderr)

    webhooks = corpus / "webhook_parse"
    for path in json_files(conformance / "meta-openapi/webhook-examples"):
        write(webhooks, path.read_bytes())
    for path in json_files(conformance / "meta-webhooks/pywa"):
        for body in json.loads(path.read_text()).values():
            write(webhooks, json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())

    api = corpus / "api_create_message"
    for path in json_files(conformance / "meta-openapi/send-message-examples"):
        write(api, path.read_bytes())
    for body in OWN_API_BODIES:
        write(api, json.dumps(body, ensure_ascii=False).encode())

    # (u16 status, Option<u32> Retry-After, body): a few leading bytes, then the body.
    for body in OWN_GRAPH_BODIES:
        write(corpus / "graph_response", b"\x90\x01\x00" + json.dumps(body).encode())

    for target in ("webhook_signature", "store_cursor"):
        (corpus / target).mkdir(parents=True, exist_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
