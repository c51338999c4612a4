// The arm/disarm command contract on RabbitMQ: names and message (contract.ts), the publishing side
// (api.ts, publisher.ts), the consuming side (consumer.ts, for the driver holding a panel's lease), the
// execution ledger that makes a command run once or never (ledger.ts), its terminal state (store.ts) and
// the answer to dead-lettered commands (dead-letters.ts). Other modules import from here only.
export {
  COMMAND_ACTIONS, COMMAND_HEADERS, COMMANDS_DEAD_QUEUE, COMMANDS_DLX, COMMANDS_EXCHANGE, COMMANDS_UNROUTABLE, RESULT_STAGE_HEADER,
  commandResult, deadlineOf, driverQueueName, encodeCommand, isCommandAction, isCommandId, normalizeParams, paramsProblem, parseCommand, routingKeyFor,
} from './contract.ts';
export type { CommandAction, CommandMessage, CommandParams, ResultStage } from './contract.ts';
export { declareCommandTopology, declareDriverQueue } from './topology.ts';
export { createCommandPublisher } from './publisher.ts';
export type { CommandPublisher, CommandPublisherOptions, PublishOutcome } from './publisher.ts';
export { createCommandConsumer } from './consumer.ts';
export type { CommandConsumer, CommandConsumerOptions, DeliveredCommand, HandleOutcome } from './consumer.ts';
export { createCommandLedger, recordOf } from './ledger.ts';
export type { ClaimOutcome, CommandLedger, CommandRecord } from './ledger.ts';
export { recordCommandResult } from './store.ts';
export type { RecordOutcome } from './store.ts';
export { createResultReporter } from './results.ts';
export type { ResultReporter } from './results.ts';
export { createDeadLetterConsumer, deadLetterReason } from './dead-letters.ts';
export type { DeadLetterConsumer, DeadLetterConsumerOptions } from './dead-letters.ts';
export { getCommand, listPanelCommands, requestCommand } from './api.ts';
export type { CommandApiOptions, CommandRequest, CommandRequestOutcome, CommandView } from './api.ts';
// The kept-alive confirm channel, for the other RabbitMQ users (the notifier).
export { openAmqpLink } from './amqp.ts';
export type { AmqpLink, AmqpLinkOptions } from './amqp.ts';
