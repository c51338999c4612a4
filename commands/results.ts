import type { Producer } from '../platform/index.ts';
import { codecFor, topicName, type CommandResult } from '../schemas/index.ts';
import { RESULT_STAGE_HEADER, type ResultStage } from './contract.ts';

export type ResultReporter = (result: CommandResult) => Promise<void>;

/** Produces results to `command.results.v1` (key = command id, acks from all in-sync replicas) marked with their stage. */
export function createResultReporter(producer: Producer, topicPrefix: string, stage: ResultStage = 'reported'): ResultReporter {
  const topic = topicName('command.results.v1', topicPrefix);
  const codec = codecFor('CommandResult');
  return async (r) => {
    await producer.send({ topic, acks: -1, messages: [{ key: r.command_id, value: codec.encode(r), headers: { [RESULT_STAGE_HEADER]: stage } }] });
  };
}
