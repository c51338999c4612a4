import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';

/**
 * The raw broker's own produce and consume rate on this machine, measured with Kafka's
 * ProducerPerformance and ConsumerPerformance (kafka-tools), so pipeline figures can be printed as a
 * ratio of what the broker itself does here.
 */
const lib = fileURLToPath(new URL('../infra/kafka/lib/', import.meta.url));

export interface BrokerBaseline { records: number; recordBytes: number; produceEps: number; consumeEps: number; produceMBps: number; consumeMBps: number }

function java(mainClass: string, args: string[]): Promise<string> {
  if (!existsSync(lib)) throw new Error('Kafka jars missing: run `bash infra/kafka/broker.sh jars` first');
  return new Promise((resolve, reject) => {
    const p = spawn('java', ['-Xmx512m', '-cp', `${lib}*`, `-Dlog4j2.configurationFile=${fileURLToPath(new URL('../infra/kafka/log4j2.properties', import.meta.url))}`, mainClass, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${mainClass} exited ${code}: ${err.slice(-2000)}`))));
  });
}

/** Parses ProducerPerformance's final line: "N records sent, X records/sec (Y MB/sec), …". */
export function parseProducerPerformance(out: string): { eps: number; mbps: number } {
  const m = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\)/.exec(out.trim().split('\n').pop() ?? '');
  if (!m) throw new Error(`unexpected ProducerPerformance output: ${out.slice(-500)}`);
  return { eps: Number(m[2]), mbps: Number(m[3]) };
}

/** Parses ConsumerPerformance's CSV line (header start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, …). */
export function parseConsumerPerformance(out: string): { eps: number; mbps: number } {
  const lines = out.trim().split('\n').filter((l) => l.includes(','));
  const header = lines.find((l) => l.includes('nMsg.sec'));
  const row = lines[lines.length - 1];
  if (!header || !row || row === header) throw new Error(`unexpected ConsumerPerformance output: ${out.slice(-500)}`);
  const cols = header.split(',').map((c) => c.trim());
  const vals = row.split(',').map((c) => c.trim());
  const get = (name: string) => Number(vals[cols.indexOf(name)]);
  return { eps: get('nMsg.sec'), mbps: get('MB.sec') };
}

/** Produces `records` records of `recordBytes` to a fresh topic, then consumes them, with Kafka's own tools. */
export async function measureBrokerBaseline(opts: { kafka: Kafka; brokers: string; topic: string; partitions: number; records: number; recordBytes: number }): Promise<BrokerBaseline> {
  // The broker does not create topics on demand (auto.create.topics.enable=false): make it, measure, drop it.
  const admin = opts.kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: opts.topic, numPartitions: opts.partitions, replicationFactor: 1 }] });
  try {
    return await measure(opts);
  } finally {
    await admin.deleteTopics({ topics: [opts.topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

async function measure(opts: { brokers: string; topic: string; records: number; recordBytes: number }): Promise<BrokerBaseline> {
  const produced = parseProducerPerformance(await java('org.apache.kafka.tools.ProducerPerformance', [
    '--topic', opts.topic, '--num-records', String(opts.records), '--record-size', String(opts.recordBytes), '--throughput', '-1',
    '--producer-props', `bootstrap.servers=${opts.brokers}`, 'acks=all', 'linger.ms=5', 'max.block.ms=15000',
  ]));
  const consumed = parseConsumerPerformance(await java('org.apache.kafka.tools.ConsumerPerformance', [
    '--bootstrap-server', opts.brokers, '--topic', opts.topic, '--messages', String(opts.records), '--timeout', '60000',
  ]));
  return { records: opts.records, recordBytes: opts.recordBytes, produceEps: produced.eps, consumeEps: consumed.eps, produceMBps: produced.mbps, consumeMBps: consumed.mbps };
}
