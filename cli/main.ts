import { Command, InvalidArgumentError } from 'commander';
import { createLogger, ensureDatabase, migrate } from '../platform/index.ts';
import { configOrExit, ensureTopics, roleContext } from './context.ts';
import { migrateRole, runRole, startAlarmProcessor, startGateway, startOutboxRelay, startSatelIngest } from './roles.ts';
import { startCommandProcessor } from './commands-role.ts';
import { startSmsIngest } from './sms-role.ts';
import { startSimulatorRole, simulatorOptions } from './simulator.ts';
import { stackDown, stackUp } from '../infra/stack.ts';
import { seedDemo } from './seed.ts';
import { createSupervisor } from './supervisor.ts';
import { userCommand } from './users.ts';
import { keysCommand, secretsCommand } from './keys.ts';
import { dlqCommand } from './dlq.ts';
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
program.command('sms-ingest').description('read temperature-alarm SMS from the GSM modem (SMS_MODEM_DEVICE) and produce sms.events.v1')
  .action(() => runRole('sms-ingest', startSmsIngest));
program.command('gateway').description('operator REST API, WebSocket stream and console (GATEWAY_PORT)').action(() => runRole('gateway', startGateway));

simulatorOptions(program.command('simulator').description('ETHM-1 panel simulator: panel i listens on 127.0.0.1:(port+i-1); --modem: also a GSM modem on a pty'))
  .action((o: Record<string, unknown>) => runRole('simulator', (ctx) => startSimulatorRole(ctx, o)));

const stack = program.command('stack').description('local services: PostgreSQL, Redis, RabbitMQ and the Kafka broker');
stack.command('up').description('start what is not running (Kafka from Maven jars unless KAFKA_BROKERS answers)').action(async () => {
  const config = configOrExit();
  try {
    await stackUp(config, createLogger('stack', config.LOG_LEVEL));
  } catch (err) {
    process.stderr.write(`stam stack up: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
});
stack.command('down').description('stop the Kafka broker that `stack up` started').action(() => stackDown(configOrExit()));

program.command('seed').description('load the demo dataset (objects and panels for the simulator, an operator account)').action(async () => {
  const ctx = roleContext('seed');
  const creds = await seedDemo(ctx.pool(), ctx.config, ctx.log);
  process.stdout.write(`operator login: ${creds.username} / ${creds.password}\n`);
  await ctx.close();
});

program.addCommand(userCommand());
program.addCommand(keysCommand());
program.addCommand(secretsCommand());
program.addCommand(dlqCommand());
program.addCommand(loadCommand());

program.command('all')
  .description('every role plus the simulator as child processes with one combined log (development, demo)')
  .option('--stack', 'start the local services and broker first', false)
  .option('--panels <n>', 'simulated panels', int('--panels'))
  .option('--no-seed', 'do not load the demo dataset')
  .action(async (o: { stack: boolean; panels?: number; seed: boolean }) => {
    if (o.panels !== undefined) process.env.SIMULATOR_PANELS = String(o.panels);
    const config = configOrExit();
    const log = createLogger('all', config.LOG_LEVEL);
    try {
      if (o.stack) await stackUp(config, log);
      await ensureDatabase(config.DATABASE_URL);
      await migrate(config.DATABASE_URL, log);
      const ctx = roleContext('all');
      await ensureTopics(ctx);
      const creds = o.seed ? await seedDemo(ctx.pool(), config, log) : undefined;
      await ctx.close();
      const sup = createSupervisor({ log, pretty: true });
      // SMS: the modem on SMS_MODEM_DEVICE, or (unset) the simulator's modem on its pty, which sms-ingest then opens.
      const simulatedModem = config.FEATURE_SMS_ENABLED && config.SMS_MODEM_DEVICE === undefined;
      sup.start({ role: 'simulator', args: simulatedModem ? ['--modem'] : [] });
      for (const role of ['alarm-processor', 'outbox-relay', 'command-processor', 'gateway', 'satel-ingest']) sup.start({ role });
      if (config.FEATURE_SMS_ENABLED) sup.start({ role: 'sms-ingest' });
      const url = `http://${config.GATEWAY_HOST}:${config.GATEWAY_PORT}/`;
      log.info(`operator console: ${url}${creds ? `  login: ${creds.username} / ${creds.password}` : ''}  simulator control: http://127.0.0.1:${config.SIMULATOR_CONTROL_PORT}/panels`);
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

await program.parseAsync(process.argv);
