#!/usr/bin/python3
"""A confluent-kafka-python 1.7.0 (librdkafka 2.0.2) group consumer for require-stable-client.test.ts.

Usage: stable_consumer.py '<json request>' with bootstrap, topic, group, isolation
("read_committed" or "read_uncommitted"), count, timeout. Subscribes in `group` (auto-commit off,
auto.offset.reset earliest) and prints JSON lines on stdout as things happen:
  {"event": "assigned", "partitions": [...]}      the rebalance callback
  {"event": "offset_fetch", "unstable": n, ...}   librdkafka's debug line for each OffsetFetch answer
  {"event": "record", "offset": o, "value": v}     each record, in the order the application sees them
  {"event": "error", "error": "..."}               errors handed to the application
  {"event": "done", "records": n}                  after `count` records or `timeout` seconds
"""
import json
import logging
import re
import sys
import time

from confluent_kafka import Consumer

# librdkafka (rd_kafka_handle_OffsetFetch): "OffsetFetch for 1/1 partition(s) (1 unstable partition(s)) returned Success"
OFFSET_FETCH_LINE = re.compile(r'OffsetFetch for (\d+)/(\d+) partition\(s\) \((\d+) unstable partition\(s\)\) returned (.*)')


def emit(**kw):
    sys.stdout.write(json.dumps(kw) + '\n')
    sys.stdout.flush()


class OffsetFetchLog(logging.Handler):
    def emit(self, record):
        m = OFFSET_FETCH_LINE.search(record.getMessage())
        if m:
            emit(event='offset_fetch', seen=int(m.group(1)), unstable=int(m.group(3)), result=m.group(4).strip())


def main():
    req = json.loads(sys.argv[1])
    log = logging.getLogger('rdkafka-%s' % req['group'])
    log.setLevel(logging.DEBUG)
    log.propagate = False
    log.addHandler(OffsetFetchLog())
    c = Consumer({
        'bootstrap.servers': req['bootstrap'], 'group.id': req['group'], 'isolation.level': req['isolation'],
        'enable.auto.commit': False, 'auto.offset.reset': 'earliest', 'session.timeout.ms': 6000,
        'debug': 'cgrp,topic', 'logger': log,
    })
    c.subscribe([req['topic']], on_assign=lambda _c, parts: emit(event='assigned', partitions=[p.partition for p in parts]))
    got = 0
    deadline = time.time() + req.get('timeout', 60)
    while got < req['count'] and time.time() < deadline:
        m = c.poll(0.2)
        if m is None:
            continue
        if m.error():
            emit(event='error', error=m.error().str())
            continue
        emit(event='record', offset=m.offset(), value=m.value().decode())
        got += 1
    c.close()
    emit(event='done', records=got)


if __name__ == '__main__':
    main()
