// One kafkajs group member in its own process (so a test can SIGKILL it), reporting JSON-line
// events like py/member.py: assign (from GROUP_JOIN), record, error, closed. A line "close" on
// stdin disconnects cleanly (LeaveGroup).
import { Kafka, logLevel } from 'kafkajs';
import { createInterface } from 'node:readline';

const req = JSON.parse(process.argv[2]) as { bootstrap: string; group: string; topics: string[]; sessionTimeout?: number };
const emit = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
const kafka = new Kafka({ brokers: [req.bootstrap], clientId: 'kafkajs-member', logLevel: logLevel.NOTHING });
const consumer = kafka.consumer({ groupId: req.group, sessionTimeout: req.sessionTimeout ?? 6000, heartbeatInterval: 500 });
consumer.on(consumer.events.GROUP_JOIN, (e) => {
  const owned = req.topics.flatMap((t) => e.payload.memberAssignment[t] ?? []).sort((a, b) => a - b);
  emit({ event: 'assign', partitions: owned, owned });
});
consumer.on(consumer.events.CRASH, (e) => emit({ event: 'error', error: String(e.payload.error) }));
await consumer.connect();
for (const topic of req.topics) await consumer.subscribe({ topic, fromBeginning: true });
await consumer.run({
  eachMessage: async ({ partition, message }) => {
    emit({ event: 'record', partition, offset: Number(message.offset), value: message.value?.toString() });
  },
});
emit({ event: 'started' });
createInterface({ input: process.stdin }).on('line', async (line) => {
  if (line.trim() !== 'close') return;
  await consumer.disconnect();
  emit({ event: 'closed' });
  process.exit(0);
});
