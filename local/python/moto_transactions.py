"""TransactWriteItems for moto without copying whole tables.

moto backs up every table a transaction names with a deep copy before it writes anything, so
that it can restore the copy if a condition fails. The copy costs time in proportion to the
table: milliseconds on an empty table, a tenth of a second at a few thousand items, and since
DynamoDB requests are serialized (moto_server.py) every other request waits behind it. The
local stack's tables grow during a test run or a bench, so the emulator, not the code under
test, sets the pace.

DynamoDB decides a transaction on the state before it: every condition is evaluated, and only
when all hold are the writes made. This does the same. The first pass checks each item's
condition (and that no item is named twice) without writing; a failed condition cancels the
transaction with the same reasons moto gives, having changed nothing, so no rollback and no
stray stream record. The second pass writes. A write that still fails there (an update
expression moto rejects) puts back the items written so far, from copies of those items alone.
"""

import copy

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend

_OPERATIONS = {"ConditionCheck", "Put", "Delete", "Update"}


def _key_of(backend, op_type, op):
    if op_type != "Put":
        return op["Key"]
    attrs = op["Item"]
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _check(backend, transact_items):
    """The (op_type, op, key, current item) of each entry, or the cancellation reasons."""
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen = set()
    checked = []
    reasons = []
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(entry.items()))
        try:
            if op_type not in _OPERATIONS:
                raise ValueError("Unsupported transaction operation")
            key = _key_of(backend, op_type, op)
            unique = (str(op["TableName"]), str(dict(sorted(key.items()))))
            if unique in seen:
                raise MultipleTransactionsException()
            seen.add(unique)
            current = backend.get_item(op["TableName"], key)
            condition = op.get("ConditionExpression")
            if condition is not None:
                holds = get_filter_expression(
                    condition,
                    op.get("ExpressionAttributeNames"),
                    op.get("ExpressionAttributeValues"),
                ).expr(current)
                if not holds:
                    old = None
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        old = current.to_json()["Attributes"]
                    reasons.append(("ConditionalCheckFailed", str(ConditionalCheckFailed().message), old))
                    continue
            checked.append((op_type, op, key, current))
            reasons.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            raise
        except Exception as e:  # noqa: BLE001 - moto reports any other failure as a reason too
            reasons.append((type(e).__name__, str(e), None))
    return checked, reasons


def _write(backend, op_type, op, key):
    names = op.get("ExpressionAttributeNames")
    values = op.get("ExpressionAttributeValues")
    if op_type == "Put":
        backend.put_item(op["TableName"], op["Item"], expression_attribute_names=names,
                         expression_attribute_values=values)
    elif op_type == "Delete":
        backend.delete_item(op["TableName"], key, expression_attribute_names=names,
                            expression_attribute_values=values)
    elif op_type == "Update":
        backend.update_item(op["TableName"], key, update_expression=op["UpdateExpression"],
                            expression_attribute_names=names,
                            expression_attribute_values=values)


def _restore(backend, table_name, key, before):
    if before is None:
        backend.delete_item(table_name, key)
    else:
        backend.put_item(table_name, before.to_json()["Attributes"])


def transact_write_items(self, transact_items):
    checked, reasons = _check(self, transact_items)
    if any(code is not None for code, _, _ in reasons):
        raise TransactionCanceledException(reasons)
    written = []
    try:
        for op_type, op, key, current in checked:
            if op_type == "ConditionCheck":
                continue
            before = copy.deepcopy(current)
            _write(self, op_type, op, key)
            written.append((op["TableName"], key, before))
    except Exception:
        for table_name, key, before in reversed(written):
            _restore(self, table_name, key, before)
        raise


def install():
    DynamoDBBackend.transact_write_items = transact_write_items
