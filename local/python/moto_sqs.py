"""SQS queue attributes for moto, each computed when it is read.

moto's SendMessage asks the queue for one attribute (ContentBasedDeduplication) through
Queue.attributes, which computes all of them, among them three message counts that walk every
message in the queue and read the clock twice for each. A queue holding thousands of messages
(a campaign's sends queued faster than the emulator lets them go) makes every send cost tens of
milliseconds, so the emulator slows down as its queues fill, which SQS does not. Here the
attributes are a read-only mapping whose values are computed on access; GetQueueAttributes
still answers with all of them, as a plain dict.
"""

import json
from collections.abc import Mapping

from moto.core.utils import camelcase_to_underscores
from moto.sqs.models import Queue, SQSBackend


class _Attributes(Mapping):
    def __init__(self, queue):
        self._queue = queue
        names = list(queue.BASE_ATTRIBUTES)
        if queue.fifo_queue:
            names += queue.FIFO_ATTRIBUTES
        if queue.kms_master_key_id:
            names += queue.KMS_ATTRIBUTES
        if queue.policy:
            names.append("Policy")
        if queue.redrive_policy:
            names.append("RedrivePolicy")
        self._names = names

    def __getitem__(self, name):
        if name not in self._names:
            raise KeyError(name)
        queue = self._queue
        if name == "Policy":
            value = queue.policy
        elif name == "RedrivePolicy":
            value = json.dumps(queue.redrive_policy)
        else:
            value = getattr(queue, camelcase_to_underscores(name))
        if isinstance(value, bool):
            value = str(value).lower()
        return value

    def __iter__(self):
        return iter(self._names)

    def __len__(self):
        return len(self._names)


def _attributes(self):
    return _Attributes(self)


_get_queue_attributes = SQSBackend.get_queue_attributes


def _get_queue_attributes_as_dict(self, *args, **kwargs):
    return dict(_get_queue_attributes(self, *args, **kwargs))


def install():
    Queue.attributes = property(_attributes)
    SQSBackend.get_queue_attributes = _get_queue_attributes_as_dict
