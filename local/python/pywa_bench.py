"""Webhook throughput of pywa, the peer Switchboard's webhook is measured against.

Reads the corpus written by the Rust bench (one JSON line per case: name, signature, body)
and, for every body, does what pywa's own web integrations do per request:
``webhook_update_validator`` (X-Hub-Signature-256) and then ``webhook_update_handler`` (parse,
build the typed update, dispatch). A handler is registered for every update type pywa has.
Single-threaded; rates are updates per second of the thread's CPU time, the median of ten
rounds as on the Rust side, with the best round beside it (BENCH_SHOW_ROUNDS=1 prints every
round).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
from collections import Counter

import pywa
from pywa import WhatsApp, handlers

ROUNDS = 10


def all_handler_types() -> list[type[handlers.Handler]]:
    """Every concrete Handler subclass, including those behind pywa's private bases."""
    found: list[type[handlers.Handler]] = []
    pending = list(handlers.Handler.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if not cls.__name__.startswith("_"):
            found.append(cls)
    return sorted(found, key=lambda c: c.__name__)


def build_client(app_secret: str, dispatched: Counter) -> WhatsApp:
    wa = WhatsApp(
        phone_id="1",
        token="bench-token",
        verify_token="bench-verify-token",
        app_secret=app_secret,
        validate_updates=True,
        # The loop replays the same bodies; pywa's in-memory dedupe would skip all but the first.
        skip_duplicate_updates=False,
        # The corpus spans many WABAs and phone numbers.
        filter_updates=False,
    )
    for handler_type in all_handler_types():
        name = handler_type.__name__

        def count(_wa, _update, name=name):
            dispatched[name] += 1

        wa.add_handlers(handler_type(count))
    return wa


def typed_dispatches(dispatched: Counter) -> int:
    return sum(n for handler, n in dispatched.items() if handler != "RawUpdateHandler")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", required=True, help="JSON lines: name, signature, body")
    parser.add_argument("--app-secret", required=True)
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time")
    parser.add_argument("--json", help="write the result here")
    args = parser.parse_args()

    # Logging is not part of the work measured (the Rust side logs nothing either).
    logging.getLogger("pywa").setLevel(logging.CRITICAL)

    with open(args.corpus, encoding="utf-8") as f:
        cases = [json.loads(line) for line in f if line.strip()]
    corpus = [(c["name"], c["body"].encode("utf-8"), c["signature"]) for c in cases]

    dispatched: Counter = Counter()
    wa = build_client(args.app_secret, dispatched)

    # One checked pass: every signature verifies, every body is accepted, and we learn which
    # cases reach a typed handler beyond the raw-update handler that every update reaches.
    untyped = []
    for name, body, signature in corpus:
        before = typed_dispatches(dispatched)
        if wa.webhook_update_validator(body, signature) is not None:
            print(f"pywa rejected the signature of {name}", file=sys.stderr)
            return 1
        _, status = wa.webhook_update_handler(body)
        if status != 200:
            print(f"pywa answered {status} to {name}", file=sys.stderr)
            return 1
        if typed_dispatches(dispatched) == before:
            untyped.append(name)

    validate = wa.webhook_update_validator
    handle = wa.webhook_update_handler
    rates = []
    updates = 0
    for _ in range(ROUNDS):
        wall_end = time.perf_counter() + args.seconds / ROUNDS
        cpu_start = time.thread_time()
        done = 0
        while time.perf_counter() < wall_end:
            for _, body, signature in corpus:
                validate(body, signature)
                handle(body)
            done += len(corpus)
        rates.append(done / (time.thread_time() - cpu_start))
        updates += done
    rate = statistics.median(rates)
    if os.environ.get("BENCH_SHOW_ROUNDS"):
        print("rounds:", " ".join(f"{r:.0f}" for r in sorted(rates)), file=sys.stderr)

    result = {
        "pywa_version": pywa.__version__,
        "python": sys.version.split()[0],
        "clock": "thread CPU time",
        "cases": len(corpus),
        "updates": updates,
        "updates_per_second": rate,
        "best_round_updates_per_second": max(rates),
        "handler_types_registered": len(all_handler_types()),
        "cases_without_typed_handler": untyped,
    }
    print(
        f"pywa {result['pywa_version']}: {rate:.0f} updates/s "
        f"(best round {result['best_round_updates_per_second']:.0f}) "
        f"({len(corpus)} cases; {len(untyped)} reach only the raw-update handler)"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
