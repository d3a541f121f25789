#!/usr/bin/python3
"""confluent-kafka-python 1.7.0 (librdkafka 2.0.2) for the transaction tests in test/txn/.

Usage: txn_client.py <command> '<json request>'. Prints JSON lines on stdout as things happen (so a
test can kill the process mid-way and still know what it was told), ending with {"event": "done"}.

Commands:
  produce  idempotent producer: values <prefix>-<i> to partition i % partitions; one ack/fail each
  read     everything from offset 0 of every partition up to the end (the LSO for read_committed)
  txn      transactional producer: transactions of `per_txn` values; every `abort_every`-th aborted;
           with `hang_in` the process announces "hanging" inside that transaction and sleeps
  eos      consume-transform-produce: read `input` in group `group`, write "<value>:out" to `output`
           and commit the input offsets in the same transaction (send_offsets_to_transaction);
           with `crash_after` the process exits abruptly inside that transaction, before its commit
"""
import json
import os
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition


def emit(**kw):
    sys.stdout.write(json.dumps(kw) + '\n')
    sys.stdout.flush()


def err_text(e):
    if isinstance(e, KafkaException) and e.args:
        e = e.args[0]
    if hasattr(e, 'name') and callable(e.name):
        return '%s: %s' % (e.name(), e.str())
    return repr(e)


def produce(req):
    conf = {'bootstrap.servers': req['bootstrap'], 'enable.idempotence': True, 'acks': 'all', 'linger.ms': 2,
            'message.timeout.ms': 120000, 'retry.backoff.ms': 20}
    conf.update(req.get('config', {}))
    p = Producer(conf)

    def report(err, msg):
        v = msg.value().decode()
        if err:
            emit(event='fail', value=v, partition=msg.partition(), error=err_text(err))
        else:
            emit(event='ack', value=v, partition=msg.partition(), offset=msg.offset())

    for i in range(req['count']):
        value = '%s-%d' % (req['prefix'], i)
        while True:
            try:
                p.produce(req['topic'], value.encode(), partition=i % req['partitions'], on_delivery=report)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    left = p.flush(120)
    emit(event='done', unflushed=left)


def read(req):
    c = Consumer({'bootstrap.servers': req['bootstrap'], 'group.id': 'reader-%d' % os.getpid(),
                  'enable.auto.commit': False, 'enable.partition.eof': True,
                  'isolation.level': req.get('isolation', 'read_committed')})
    parts = list(range(req['partitions']))
    c.assign([TopicPartition(req['topic'], p, 0) for p in parts])
    at_end = set()
    deadline = time.time() + req.get('timeout', 60)
    while len(at_end) < len(parts) and time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                at_end.add(m.partition())
                continue
            emit(event='error', error=err_text(m.error()))
            continue
        at_end.discard(m.partition())
        emit(event='record', partition=m.partition(), offset=m.offset(), value=m.value().decode())
    c.close()
    emit(event='done', complete=len(at_end) == len(parts))


def txn(req):
    conf = {'bootstrap.servers': req['bootstrap'], 'transactional.id': req['transactional_id'],
            'transaction.timeout.ms': req.get('transaction_timeout_ms', 60000), 'linger.ms': 2}
    conf.update(req.get('config', {}))
    p = Producer(conf)
    p.init_transactions(30)
    emit(event='ready')
    n = 0
    for t in range(req['txns']):
        tid = '%s-t%d' % (req['prefix'], t)
        p.begin_transaction()
        for i in range(req['per_txn']):
            value = '%s-%d' % (tid, i)
            p.produce(req['topic'], value.encode(), partition=n % req['partitions'])
            emit(event='write', value=value, txn=tid)
            n += 1
        p.flush(30)
        if req.get('hang_in') == t:
            emit(event='hanging', txn=tid)
            time.sleep(3600)
        abort = req.get('abort_every', 0) and (t + 1) % req['abort_every'] == 0
        try:
            if abort:
                p.abort_transaction(30)
                emit(event='txn', txn=tid, outcome='aborted')
            else:
                p.commit_transaction(30)
                emit(event='txn', txn=tid, outcome='committed')
        except KafkaException as e:
            emit(event='txn', txn=tid, outcome='unknown', error=err_text(e))
            raise
    emit(event='done')


def eos(req):
    c = Consumer({'bootstrap.servers': req['bootstrap'], 'group.id': req['group'], 'enable.auto.commit': False,
                  'auto.offset.reset': 'earliest', 'isolation.level': 'read_committed',
                  'session.timeout.ms': req.get('session_timeout_ms', 6000)})
    p = Producer({'bootstrap.servers': req['bootstrap'], 'transactional.id': req['transactional_id'],
                  'transaction.timeout.ms': req.get('transaction_timeout_ms', 10000), 'linger.ms': 2})
    p.init_transactions(30)
    state = {'idle_since': time.time() + 3600}

    def on_assign(consumer, partitions):
        # The idle clock starts once partitions are assigned (a rebalance may wait out a dead member).
        state['idle_since'] = time.time()
        emit(event='assigned', partitions=[tp.partition for tp in partitions])

    c.subscribe([req['input']], on_assign=on_assign)
    emit(event='ready')
    done = 0
    while time.time() - state['idle_since'] < req.get('idle_s', 4):
        msgs = c.consume(num_messages=req.get('batch', 7), timeout=0.5)
        msgs = [m for m in msgs if not m.error()]
        if not msgs:
            continue
        state['idle_since'] = time.time()
        tid = '%s-t%d' % (req['prefix'], done)
        p.begin_transaction()
        for m in msgs:
            out = m.value().decode() + ':out'
            p.produce(req['output'], out.encode(), partition=m.partition())
            emit(event='write', value=out, txn=tid)
        positions = {}
        for m in msgs:
            positions[m.partition()] = m.offset() + 1
        offsets = [TopicPartition(req['input'], part, off) for part, off in positions.items()]
        p.send_offsets_to_transaction(offsets, c.consumer_group_metadata(), 30)
        if req.get('crash_after') == done:
            p.flush(10)
            emit(event='crashing', txn=tid)
            os._exit(3)
        p.commit_transaction(30)
        emit(event='txn', txn=tid, outcome='committed', offsets=positions)
        done += 1
    c.close()
    emit(event='done', txns=done)


if __name__ == '__main__':
    command, request = sys.argv[1], json.loads(sys.argv[2])
    {'produce': produce, 'read': read, 'txn': txn, 'eos': eos}[command](request)
