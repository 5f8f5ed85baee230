"""Queries for moto without sorting the whole table.

moto answers every Query from Table.all_items(), which lists and sorts every item of the table
(by comparisons of its DynamoType values, in Python) before keeping the few that match; the
query then sorts what it kept once more, by the keys it needs. A table of tens of thousands of
items (a 10,000-recipient campaign's contacts and messages) makes each query cost a large part
of a second, and since DynamoDB requests are serialized (moto_server.py) everything else waits.
DynamoDB reads one partition. Here a query of the table reads only its partition, and a query
of an index goes through the items unsorted: the query's own sort, which orders by the index's
keys and then the table's, gives the same answer either way.
"""

from moto.dynamodb.models.table import Table

_query = Table.query
_all_items = Table.all_items


def _query_one_partition(self, hash_key, *args, **kwargs):
    index_name = kwargs.get("index_name")
    if index_name is None and len(args) > 6:
        index_name = args[6]
    self._switchboard_partition = (hash_key,) if index_name is None else ()
    try:
        return _query(self, hash_key, *args, **kwargs)
    finally:
        self._switchboard_partition = None


def _items_for_query(self):
    partition = getattr(self, "_switchboard_partition", None)
    if partition is None:
        return _all_items(self)
    if partition:
        stored = self.items.get(partition[0])
        if stored is None:
            return []
        return list(stored.values()) if self.range_key_attr else [stored]
    items = []
    for stored in self.items.values():
        if self.range_key_attr:
            items.extend(stored.values())
        else:
            items.append(stored)
    return items


def install():
    Table.query = _query_one_partition
    Table.all_items = _items_for_query
