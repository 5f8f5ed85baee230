"""moto's server, with DynamoDB requests serialized.

When moto cancels a TransactWriteItems it restores a deep copy of every table the transaction
touched, silently undoing writes that other request threads made in the meantime. DynamoDB does
nothing of the kind, so idempotent writes that race (the very thing Switchboard's tests
exercise) would flake. One lock around DynamoDB requests removes the artifact; every other
service, SQS long polls included, stays concurrent. Transactions themselves are decided the
way DynamoDB decides them, without the copy (moto_transactions.py), and SQS sends do not walk
the whole queue (moto_sqs.py), and queries do not sort the whole table (moto_queries.py).

Usage: python moto_server.py [-H 127.0.0.1] [-p 4566]
"""

import argparse
import os
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

import moto_queries
import moto_sqs
import moto_transactions

_dynamodb_lock = threading.Lock()


class SerializeDynamoDB:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith("DynamoDB_"):
            return self.app(environ, start_response)
        with _dynamodb_lock:
            # Drain the response inside the lock: the work may happen lazily while iterating.
            return list(self.app(environ, start_response))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=int(os.environ.get("MOTO_PORT", 4566)))
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    moto_transactions.install()
    moto_sqs.install()
    moto_queries.install()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        SerializeDynamoDB(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
