import { Command, InvalidArgumentError } from 'commander';
import { createLogger, ensureDatabase, migrate } from '../platform/index.ts';
import { configOrExit, ensureTopics, roleContext } from './context.ts';
import { migrateRole, runRole, startAlarmProcessor, startGateway, startOutboxRelay, startSatelIngest } from './roles.ts';
import { startCommandProcessor } from './commands-role.ts';
import { startNotifier } from './notifier-role.ts';
import { startSmsIngest } from './sms-role.ts';
import { FAKE_FCM_DIR, startSimulatorRole, simulatorOptions } from './simulator.ts';
import { ensureFakeFcmFiles } from '../simulator/index.ts';
import { stackDown, stackReplicaUp, stackUp } from '../infra/stack.ts';
import { ensureConsoleBuilt } from '../console/build.ts';
import { DEMO_CREDENTIALS, seedDemo } from './seed.ts';
import { createSupervisor } from './supervisor.ts';
import { userCommand } from './users.ts';
import { keysCommand, secretsCommand } from './keys.ts';
import { dlqCommand } from './dlq.ts';
import { replayCommand } from './replay.ts';
import { loadCommand } from '../load-tests/index.ts';

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number`);
  return n;
};

const program = new Command('stam')
  .description('stam-replacer: alarm-receiving centre. Each role is its own process; `all` runs every role for development and the demo.\n'
    + 'Configuration comes from environment variables (see README) and config/feature_flags.yaml.')
  .showHelpAfterError();

program.command('migrate').description('apply database migrations (under an advisory lock) and provision Kafka topics').action(migrateRole);
program.command('satel-ingest').description('poll the Satel INTEGRA panels of the panels table and produce their events').action(() => runRole('satel-ingest', startSatelIngest));
program.command('alarm-processor').description('turn events into alarms in PostgreSQL (exactly-once effects)').action(() => runRole('alarm-processor', startAlarmProcessor));
program.command('outbox-relay').description('publish alarm changes from the outbox to alarm.updates.v1 and push jobs to RabbitMQ').action(() => runRole('outbox-relay', startOutboxRelay));
program.command('command-processor').description('record arm/disarm command results, answer dead-lettered commands, fail unanswered ones')
  .action(() => runRole('command-processor', startCommandProcessor));
program.command('notifier').description('push CRITICAL alarms to field staff\'s phones through FCM (RabbitMQ notifications.push)')
  .action(() => runRole('notifier', startNotifier));
program.command('sms-ingest').description('read temperature-alarm SMS from the GSM modem (SMS_MODEM_DEVICE) and produce sms.events.v1')
  .action(() => runRole('sms-ingest', startSmsIngest));
program.command('gateway').description('operator REST API, WebSocket stream and console (GATEWAY_PORT)').action(() => runRole('gateway', startGateway));

simulatorOptions(program.command('simulator').description('ETHM-1 panel simulator: panel i listens on 127.0.0.1:(port+i-1); --modem: also a GSM modem on a pty'))
  .action((o: Record<string, unknown>) => runRole('simulator', (ctx) => startSimulatorRole(ctx, o)));

const stack = program.command('stack').description('local services: PostgreSQL, Redis, RabbitMQ and the Kafka broker');
stack.command('up').description('start what is not running (Kafka from Maven jars unless KAFKA_BROKERS answers)')
  .option('--replica', 'also a streaming read replica of DATABASE_URL on DATABASE_REPLICA_PORT (reports read it)', false)
  .action(async (o: { replica: boolean }) => {
    const config = configOrExit();
    try {
      const log = createLogger('stack', config.LOG_LEVEL);
      await stackUp(config, log);
      if (o.replica) process.stdout.write(`DATABASE_REPLICA_URL=${await stackReplicaUp(config, log)}\n`);
    } catch (err) {
      process.stderr.write(`stam stack up: ${(err as Error).message}\n`);
      process.exitCode = 1;
    }
  });
stack.command('down').description('stop the Kafka broker that `stack up` started, and the read replica').action(async () => {
  const config = configOrExit();
  await stackDown(config, createLogger('stack', config.LOG_LEVEL));
});

program.command('seed').description('load the demo dataset (objects and panels for the simulator, an operator account)').action(async () => {
  const ctx = roleContext('seed');
  const creds = await seedDemo(ctx.pool(), ctx.config, ctx.log);
  process.stdout.write(`operator login: ${creds.username} (password in ${DEMO_CREDENTIALS})\n`);
  await ctx.close();
});

program.addCommand(userCommand());
program.addCommand(keysCommand());
program.addCommand(secretsCommand());
program.addCommand(dlqCommand());
program.addCommand(replayCommand());
program.addCommand(loadCommand());

program.command('all')
  .description('every role plus the simulator as child processes with one combined log (development, demo)')
  .option('--stack', 'start the local services and broker first', false)
  .option('--replica', 'with --stack: also the local read replica, which the gateway\'s reports then read', false)
  .option('--panels <n>', 'simulated panels', int('--panels'))
  .option('--no-seed', 'do not load the demo dataset')
  .action(async (o: { stack: boolean; replica: boolean; panels?: number; seed: boolean }) => {
    if (o.panels !== undefined) process.env.SIMULATOR_PANELS = String(o.panels);
    const config = configOrExit();
    const log = createLogger('all', config.LOG_LEVEL);
    try {
      if (o.stack) await stackUp(config, log);
      if (o.stack && o.replica && !config.DATABASE_REPLICA_URL) process.env.DATABASE_REPLICA_URL = await stackReplicaUp(config, log);
      await ensureDatabase(config.DATABASE_URL);
      await migrate(config.DATABASE_URL, log);
      ensureConsoleBuilt({ log: (l) => log.info(l) });
      const ctx = roleContext('all');
      await ensureTopics(ctx);
      const creds = o.seed ? await seedDemo(ctx.pool(), config, log) : undefined;
      await ctx.close();
      const sup = createSupervisor({ log, pretty: true });
      const push = pushDemo(config);
      // SMS: the modem on SMS_MODEM_DEVICE, or (unset) the simulator's modem on its pty, which sms-ingest then opens.
      const simulatedModem = config.FEATURE_SMS_ENABLED && config.SMS_MODEM_DEVICE === undefined;
      sup.start({ role: 'simulator', args: [...push.simulatorArgs, ...(simulatedModem ? ['--modem'] : [])] });
      for (const role of ['alarm-processor', 'outbox-relay', 'command-processor', 'gateway', 'satel-ingest']) sup.start({ role });
      if (config.FEATURE_PUSH_ENABLED) sup.start({ role: 'notifier', env: push.notifierEnv });
      if (config.FEATURE_SMS_ENABLED) sup.start({ role: 'sms-ingest' });
      // localhost, not 127.0.0.1: passkeys need a host name (WEBAUTHN_RP_ID), and the browser treats both as secure.
      const url = `http://${config.GATEWAY_HOST === '127.0.0.1' ? 'localhost' : config.GATEWAY_HOST}:${config.GATEWAY_PORT}/`;
      // The password stays in its file: a log is read by many and kept long.
      log.info(`operator console: ${url}${creds ? `  login: ${creds.username} (password in ${DEMO_CREDENTIALS})` : ''}  simulator control: http://127.0.0.1:${config.SIMULATOR_CONTROL_PORT}/panels`);
      if (config.FEATURE_SMS_ENABLED) {
        log.info(simulatedModem
          ? `GSM modem: simulated on ${config.SIMULATOR_MODEM_DEVICE} (send an SMS: POST http://127.0.0.1:${config.SIMULATOR_CONTROL_PORT}/modem/sms)`
          : `GSM modem: ${config.SMS_MODEM_DEVICE} (no modem simulator)`);
      }
      const stop = async (signal: string) => {
        log.info({ signal }, 'stopping all roles');
        await sup.stop();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    } catch (err) {
      log.fatal({ err: (err as Error).message }, 'could not start');
      process.exit(1);
    }
  });

/**
 * Push in `stam all`: without FCM_API_URL in the environment the simulator also runs the fake FCM and the
 * notifier sends there (its CA through NODE_EXTRA_CA_CERTS, its service account as FCM_CREDENTIALS_FILE);
 * with FCM_API_URL set the notifier sends there with the configured credentials and no fake runs.
 */
function pushDemo(config: ReturnType<typeof configOrExit>): { simulatorArgs: string[]; notifierEnv: Record<string, string> } {
  if (!config.FEATURE_PUSH_ENABLED || process.env.FCM_API_URL) return { simulatorArgs: [], notifierEnv: {} };
  const files = ensureFakeFcmFiles(FAKE_FCM_DIR, config.SIMULATOR_FCM_PORT);
  return {
    simulatorArgs: ['--fcm'],
    notifierEnv: { NODE_EXTRA_CA_CERTS: files.caFile, FCM_CREDENTIALS_FILE: files.credentialsFile, FCM_API_URL: `https://127.0.0.1:${config.SIMULATOR_FCM_PORT}` },
  };
}

await program.parseAsync(process.argv);
