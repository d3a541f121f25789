#!/usr/bin/python3
"""One kafka-python 2.0.2 group member (JoinGroup v2, OffsetCommit v2, OffsetFetch v1), driven by
the group tests with the same JSON-line events as member.py: assign / revoke (from a
ConsumerRebalanceListener), record, error, closed. A line "close" on stdin closes cleanly."""
import json
import select
import sys

from kafka import KafkaConsumer, ConsumerRebalanceListener


def emit(obj):
    sys.stdout.write(json.dumps(obj) + '\n')
    sys.stdout.flush()


class Listener(ConsumerRebalanceListener):
    def __init__(self):
        self.owned = []

    def on_partitions_revoked(self, revoked):
        self.owned = []
        emit({'event': 'revoke', 'partitions': sorted(p.partition for p in revoked), 'owned': []})

    def on_partitions_assigned(self, assigned):
        self.owned = sorted(p.partition for p in assigned)
        emit({'event': 'assign', 'partitions': self.owned, 'owned': self.owned})


def main():
    req = json.loads(sys.argv[1])
    consumer = KafkaConsumer(
        bootstrap_servers=req['bootstrap'],
        group_id=req['group'],
        enable_auto_commit=False,
        auto_offset_reset='earliest',
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
        metadata_max_age_ms=1000,
    )
    consumer.subscribe(req['topics'], listener=Listener())
    emit({'event': 'started'})
    while True:
        ready, _, _ = select.select([sys.stdin], [], [], 0)
        if ready:
            line = sys.stdin.readline()
            if line == '' or line.strip() == 'close':
                break
        batches = consumer.poll(timeout_ms=100)
        for records in batches.values():
            for msg in records:
                emit({'event': 'record', 'partition': msg.partition, 'offset': msg.offset, 'value': msg.value.decode()})
        if batches:
            try:
                consumer.commit()
            except Exception as e:  # a rebalance may interrupt the commit
                emit({'event': 'error', 'error': 'commit: ' + str(e)})
    consumer.close()
    emit({'event': 'closed'})


main()
