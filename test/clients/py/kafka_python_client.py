#!/usr/bin/python3
"""Drives kafka-python 2.0.2 for test/clients/kafka-python.test.ts.

Usage: kafka_python_client.py <command> with a JSON request on stdin; prints one JSON answer.
Bytes travel as base64; null stays null.

The client infers the broker version from the ApiVersions ranges (no api_version is configured
here, so that inference is exercised); 'versions' reports what it concluded.

Not available in this client version: delete_records (no DeleteRecords support in 2.0.2); the
snappy, lz4 and zstd codecs need the python modules python-snappy, lz4 and zstandard, which are
not installed with the Debian package (see 'codecs').
"""
import base64
import json
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka import codec as kcodec
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic


def b64(data):
    return None if data is None else base64.b64encode(data).decode('ascii')


def unb64(text):
    return None if text is None else base64.b64decode(text)


def jsonable(obj):
    if isinstance(obj, (bytes, bytearray)):
        return b64(bytes(obj))
    raise TypeError(repr(obj))


def codecs(_req):
    return {'gzip': kcodec.has_gzip(), 'snappy': kcodec.has_snappy(), 'lz4': kcodec.has_lz4(),
            'zstd': kcodec.has_zstd()}


def versions(req):
    p = KafkaProducer(bootstrap_servers=req['bootstrap'], request_timeout_ms=10000)
    inferred = p.config['api_version']
    p.close(timeout=5)
    return {'apiVersion': list(inferred)}


def produce(req):
    codec = req.get('codec', 'none')
    p = KafkaProducer(bootstrap_servers=req['bootstrap'], compression_type=None if codec == 'none' else codec,
                      linger_ms=20, acks=req.get('acks', 1), request_timeout_ms=10000, max_block_ms=15000)
    futures = []
    for r in req['records']:
        futures.append(p.send(req['topic'], value=unb64(r['value']), key=unb64(r['key']),
                              headers=[(k, unb64(v)) for k, v in r.get('headers', [])],
                              partition=req.get('partition', 0), timestamp_ms=r.get('timestamp')))
    p.flush(timeout=20)
    reports = []
    for f in futures:
        try:
            md = f.get(timeout=20)
            reports.append({'error': None, 'partition': md.partition, 'offset': md.offset})
        except Exception as e:  # the broker's error as the client reports it
            reports.append({'error': repr(e), 'partition': None, 'offset': None})
    p.close(timeout=5)
    return {'reports': reports}


def consumer(req):
    # No group_id: no FindCoordinator/JoinGroup/OffsetCommit is ever sent.
    return KafkaConsumer(bootstrap_servers=req['bootstrap'], group_id=None, enable_auto_commit=False,
                         request_timeout_ms=11000, session_timeout_ms=10000, check_crcs=True)


def consume(req):
    c = consumer(req)
    tp = TopicPartition(req['topic'], req.get('partition', 0))
    c.assign([tp])
    c.seek(tp, req.get('offset', 0))
    out = []
    deadline = time.time() + req.get('timeout', 15)
    while len(out) < req['count'] and time.time() < deadline:
        for records in c.poll(timeout_ms=500).values():
            for m in records:
                out.append({'offset': m.offset, 'key': b64(m.key), 'value': b64(m.value),
                            'headers': [[k, b64(v)] for k, v in (m.headers or [])],
                            'timestamp': m.timestamp, 'timestampType': m.timestamp_type})
    c.close()
    return {'records': out}


def offsets(req):
    c = consumer(req)
    tp = TopicPartition(req['topic'], req.get('partition', 0))
    low = c.beginning_offsets([tp])[tp]
    high = c.end_offsets([tp])[tp]
    by_time = []
    for ts in req.get('timestamps', []):
        found = c.offsets_for_times({tp: ts})[tp]
        by_time.append(None if found is None else {'offset': found.offset, 'timestamp': found.timestamp})
    c.close()
    return {'low': low, 'high': high, 'byTime': by_time}


def admin(req):
    return KafkaAdminClient(bootstrap_servers=req['bootstrap'], request_timeout_ms=15000)


def create_topic(req):
    a = admin(req)
    res = a.create_topics([NewTopic(req['name'], req['partitions'], 1, topic_configs=req.get('config', {}))],
                          timeout_ms=10000)
    a.close()
    return {'response': res.to_object(), 'version': res.API_VERSION}


def describe(req):
    a = admin(req)
    topics = a.describe_topics([req['name']])
    configs = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, req['name'])])
    a.close()
    return {'topics': topics, 'configs': [r.to_object() for r in configs],
            'configsVersion': configs[0].API_VERSION if configs else None}


def alter(req):
    a = admin(req)
    res = a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, req['name'], configs=req['config'])])
    a.close()
    return {'response': res.to_object()}


def add_partitions(req):
    a = admin(req)
    res = a.create_partitions({req['name']: NewPartitions(req['total'])}, timeout_ms=10000)
    a.close()
    return {'response': res.to_object()}


def delete_topic(req):
    a = admin(req)
    res = a.delete_topics([req['name']], timeout_ms=10000)
    a.close()
    return {'response': res.to_object()}


def list_topics(req):
    a = admin(req)
    names = a.list_topics()
    a.close()
    return {'topics': sorted(names)}


COMMANDS = {'codecs': codecs, 'versions': versions, 'produce': produce, 'consume': consume, 'offsets': offsets,
            'create_topic': create_topic, 'describe': describe, 'alter': alter, 'add_partitions': add_partitions,
            'delete_topic': delete_topic, 'list_topics': list_topics}

if __name__ == '__main__':
    request = json.load(sys.stdin)
    json.dump(COMMANDS[sys.argv[1]](request), sys.stdout, default=jsonable)
