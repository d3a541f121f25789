#!/usr/bin/python3
"""Drives confluent-kafka-python 1.7.0 (librdkafka 2.0.2) for test/clients/confluent-python.test.ts.

Usage: confluent_client.py <command> with a JSON request on stdin; prints one JSON answer on stdout.
Bytes travel as base64; null stays null. librdkafka's own log lines go to stderr.

Not available in this client version: delete_records (added in confluent-kafka 2.x), a consumer
without group.id (the constructor insists; consume() below only assigns, never subscribes or
commits, so no group protocol request is needed).
"""
import base64
import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource, NewPartitions, NewTopic


def b64(data):
    return None if data is None else base64.b64encode(data).decode('ascii')


def unb64(text):
    return None if text is None else base64.b64decode(text)


def err_text(e):
    """KafkaError/KafkaException as '<NAME>: <reason>' so the test can show what the client saw."""
    if isinstance(e, KafkaException) and e.args:
        e = e.args[0]
    if hasattr(e, 'name') and callable(e.name):
        return '%s: %s' % (e.name(), e.str())
    return repr(e)


def produce(req):
    conf = {
        'bootstrap.servers': req['bootstrap'],
        'compression.type': req.get('codec', 'none'),
        'linger.ms': 20,
        'message.timeout.ms': 15000,
        'socket.timeout.ms': 10000,
    }
    conf.update(req.get('config', {}))
    p = Producer(conf)
    reports = [None] * len(req['records'])

    def on_delivery(index):
        def cb(err, msg):
            reports[index] = {'error': err_text(err) if err else None,
                              'partition': msg.partition(), 'offset': msg.offset()}
        return cb

    for i, r in enumerate(req['records']):
        kwargs = {'value': unb64(r['value']), 'key': unb64(r['key']), 'partition': req.get('partition', 0),
                  'on_delivery': on_delivery(i)}
        if r.get('headers'):
            kwargs['headers'] = [(k, unb64(v)) for k, v in r['headers']]
        if r.get('timestamp') is not None:
            kwargs['timestamp'] = r['timestamp']
        p.produce(req['topic'], **kwargs)
        p.poll(0)
    left = p.flush(20)
    return {'reports': reports, 'unflushed': left}


def consume(req):
    c = Consumer({
        'bootstrap.servers': req['bootstrap'],
        'group.id': req.get('group', 'compat-assign-only'),
        'enable.auto.commit': False,
        'enable.auto.offset.store': False,
        'enable.partition.eof': True,
        'socket.timeout.ms': 10000,
        'check.crcs': True,
    })
    c.assign([TopicPartition(req['topic'], req.get('partition', 0), req.get('offset', 0))])
    out = []
    errors = []
    deadline = time.time() + req.get('timeout', 15)
    while len(out) < req['count'] and time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                if req.get('stop_at_eof'):
                    break
                continue
            errors.append(err_text(m.error()))
            continue
        ts_type, ts = m.timestamp()
        out.append({'offset': m.offset(), 'key': b64(m.key()), 'value': b64(m.value()),
                    'headers': [[k, b64(v)] for k, v in (m.headers() or [])],
                    'timestamp': ts, 'timestampType': ts_type})
    c.close()
    return {'records': out, 'errors': errors}


def offsets(req):
    c = Consumer({'bootstrap.servers': req['bootstrap'], 'group.id': 'compat-offsets',
                  'enable.auto.commit': False, 'socket.timeout.ms': 10000})
    tp = TopicPartition(req['topic'], req.get('partition', 0))
    low, high = c.get_watermark_offsets(tp, timeout=10, cached=False)
    # One lookup per call: a request naming the same partition twice is invalid (and librdkafka
    # could not tell the answers apart).
    by_time = [c.offsets_for_times([TopicPartition(req['topic'], req.get('partition', 0), ts)], timeout=10)[0]
               for ts in req.get('timestamps', [])]
    c.close()
    return {'low': low, 'high': high,
            'byTime': [{'offset': t.offset, 'error': err_text(t.error) if t.error else None} for t in by_time]}


def source_name(source):
    if isinstance(source, ConfigSource):
        return source.name
    try:
        return ConfigSource(source).name
    except ValueError:
        return str(source)


def admin(req):
    return AdminClient({'bootstrap.servers': req['bootstrap'], 'socket.timeout.ms': 10000})


def wait_all(futures):
    out = {}
    for key, f in futures.items():
        name = key if isinstance(key, str) else key.name
        try:
            res = f.result(timeout=20)
            out[name] = {'error': None, 'result': res}
        except Exception as e:  # the broker's error, as the client reports it
            out[name] = {'error': err_text(e), 'result': None}
    return out


def create_topic(req):
    a = admin(req)
    t = NewTopic(req['name'], num_partitions=req['partitions'], replication_factor=1, config=req.get('config', {}))
    res = wait_all(a.create_topics([t], operation_timeout=10, request_timeout=15))
    return {'error': res[req['name']]['error']}


def describe(req):
    a = admin(req)
    md = a.list_topics(topic=req['name'], timeout=10)
    t = md.topics[req['name']]
    parts = [{'id': p.id, 'leader': p.leader, 'replicas': list(p.replicas), 'isrs': list(p.isrs),
              'error': err_text(p.error) if p.error else None} for p in t.partitions.values()]
    res = wait_all(a.describe_configs([ConfigResource('topic', req['name'])], request_timeout=15))
    entry = res[req['name']]
    configs = None
    if entry['result'] is not None:
        configs = {k: {'value': v.value, 'isDefault': v.is_default, 'isReadOnly': v.is_read_only,
                       'source': source_name(v.source), 'isSensitive': v.is_sensitive}
                   for k, v in entry['result'].items()}
    return {'topicError': err_text(t.error) if t.error else None, 'partitions': sorted(parts, key=lambda p: p['id']),
            'brokers': [{'id': b.id, 'host': b.host, 'port': b.port} for b in md.brokers.values()],
            'configs': configs, 'configsError': entry['error']}


def alter(req):
    a = admin(req)
    res = wait_all(a.alter_configs([ConfigResource('topic', req['name'], set_config=req['config'])], request_timeout=15))
    return {'error': res[req['name']]['error']}


def add_partitions(req):
    a = admin(req)
    res = wait_all(a.create_partitions([NewPartitions(req['name'], req['total'])], operation_timeout=10, request_timeout=15))
    return {'error': res[req['name']]['error']}


def delete_topic(req):
    a = admin(req)
    res = wait_all(a.delete_topics([req['name']], operation_timeout=10, request_timeout=15))
    return {'error': res[req['name']]['error']}


def list_topics(req):
    md = admin(req).list_topics(timeout=10)
    return {'topics': sorted(md.topics.keys())}


COMMANDS = {'produce': produce, 'consume': consume, 'offsets': offsets, 'create_topic': create_topic,
            'describe': describe, 'alter': alter, 'add_partitions': add_partitions,
            'delete_topic': delete_topic, 'list_topics': list_topics}

if __name__ == '__main__':
    request = json.load(sys.stdin)
    json.dump(COMMANDS[sys.argv[1]](request), sys.stdout)
