#!/usr/bin/python3
"""One confluent-kafka (librdkafka) group member, driven by the group tests.

argv[1] is a JSON object: bootstrap, group, topics, config (extra librdkafka settings), commit
("sync" to commit each record after processing it, "none" otherwise). Events go to stdout as JSON
lines: assign / revoke / lost (with the partitions of the callback and the member's whole
assignment afterwards), record (partition, offset, value), error, closed. A line "close" on stdin
closes the consumer cleanly (LeaveGroup, unless static); SIGKILL is a crash.
"""
import json
import select
import sys

from confluent_kafka import Consumer, KafkaException


def emit(obj):
    sys.stdout.write(json.dumps(obj) + '\n')
    sys.stdout.flush()


def main():
    req = json.loads(sys.argv[1])
    conf = {
        'bootstrap.servers': req['bootstrap'],
        'group.id': req['group'],
        'enable.auto.commit': False,
        'auto.offset.reset': 'earliest',
        'session.timeout.ms': 6000,
        'heartbeat.interval.ms': 500,
        'topic.metadata.refresh.interval.ms': 1000,
        'error_cb': lambda e: emit({'event': 'error', 'error': str(e)}),
    }
    conf.update(req.get('config', {}))
    consumer = Consumer(conf)
    owned = set()
    # confluent-kafka 1.7 has no Consumer.rebalance_protocol(): the strategy tells.
    protocol = 'COOPERATIVE' if conf.get('partition.assignment.strategy') == 'cooperative-sticky' else 'EAGER'

    def parts(ps):
        return sorted(p.partition for p in ps)

    def on_assign(c, ps):
        if protocol == 'COOPERATIVE':
            owned.update(parts(ps))
        else:
            owned.clear()
            owned.update(parts(ps))
        emit({'event': 'assign', 'partitions': parts(ps), 'owned': sorted(owned), 'protocol': protocol})

    def on_revoke(c, ps):
        if protocol == 'COOPERATIVE':
            owned.difference_update(parts(ps))
        else:
            owned.clear()
        emit({'event': 'revoke', 'partitions': parts(ps), 'owned': sorted(owned), 'protocol': protocol})

    def on_lost(c, ps):
        owned.difference_update(parts(ps))
        emit({'event': 'lost', 'partitions': parts(ps), 'owned': sorted(owned)})

    consumer.subscribe(req['topics'], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
    emit({'event': 'started'})
    while True:
        ready, _, _ = select.select([sys.stdin], [], [], 0)
        if ready:
            line = sys.stdin.readline()
            if line == '' or line.strip() == 'close':
                break
        msg = consumer.poll(0.1)
        if msg is None:
            continue
        if msg.error():
            emit({'event': 'error', 'error': str(msg.error())})
            continue
        emit({'event': 'record', 'partition': msg.partition(), 'offset': msg.offset(), 'value': msg.value().decode()})
        if req.get('commit', 'sync') == 'sync':
            try:
                consumer.commit(message=msg, asynchronous=False)
            except KafkaException as e:
                emit({'event': 'error', 'error': 'commit: ' + str(e)})
    consumer.close()
    emit({'event': 'closed'})


main()
