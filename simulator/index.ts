/**
 * Satel INTEGRA / ETHM-1 panel simulator: N panels, each speaking the integration protocol on its own
 * TCP port (basePort + i - 1), plus an HTTP control API. The public surface of the simulator module.
 *
 * The options map 1:1 to `stam simulator` flags: --panels, --port (basePort), --model, --module,
 * --encryption-key, --user-code, --seed, --control-port, --host, --idle-timeout-ms, --exit-delay-ms,
 * --log-size. Numbers are coerced, so the CLI can pass its strings straight in.
 */
import { readFile } from 'node:fs/promises';
import { Type, type Static } from '@sinclair/typebox';
import { StamError } from '../platform/errors.ts';
import { createLogger, type Logger } from '../platform/logger.ts';
import { createRng } from '../platform/random.ts';
import { SIMULATOR_DEFAULTS } from '../platform/simulator-defaults.ts';
import { parseValue } from '../platform/validate.ts';
import { performAction, type Action, type ActionContext, type ActionParams, type ActionResult } from './actions.ts';
import { createControlServer, type ControlServer, type ControlTarget } from './control.ts';
import type { LogRecord, Trace } from './event-log.ts';
import { MODULE_NAMES, PANEL_MODEL_NAMES, ZONE_CMD } from './models.ts';
import { createPanel, type Panel } from './panel.ts';
import { startRate, type RateRun } from './rate.ts';
import { parseScenario, runScenario, type Scenario, type ScenarioRun } from './scenario.ts';
import { createPanelServer, type PanelServer } from './server.ts';
import { createTraceRing } from './traces.ts';

import type { ModemSimulator } from './modem/index.ts';

export type { LogRecord, Trace } from './event-log.ts';
export { createModemSimulator } from './modem/index.ts';
export type { DeliverRequest, Delivered, ModemSimulator } from './modem/index.ts';
export type { Panel } from './panel.ts';
export { createPanel } from './panel.ts';

const Port = (options: { default?: number } = {}) => Type.Integer({ minimum: 0, maximum: 65_535, ...options });
const Positive = (options: { default?: number; maximum?: number } = {}) => Type.Integer({ minimum: 1, ...options });
const OneOf = <T extends string>(names: readonly T[], def: T) => Type.Union(names.map((n) => Type.Literal(n)), { default: def });

/**
 * Validated once at start-up; defaults filled here, so the CLI and tests share them (the ports and the
 * user code are the SIMULATOR_* defaults of the configuration, from platform/simulator-defaults.ts).
 */
const SimulatorOptionsSchema = Type.Object({
  panels: Type.Integer({ minimum: 1, maximum: 5_000 }),
  /** Panel i listens on basePort + i - 1; 0 gives every panel a free port. */
  basePort: Port({ default: SIMULATOR_DEFAULTS.port }),
  model: OneOf(PANEL_MODEL_NAMES, 'integra128'),
  module: OneOf(MODULE_NAMES, 'ethm1plus'),
  encryptionKey: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  userCode: Type.String({ pattern: '^[0-9]{4,16}$', default: SIMULATOR_DEFAULTS.userCode }),
  seed: Type.Integer({ default: 1 }),
  /** 0 picks a free port. */
  controlPort: Port({ default: SIMULATOR_DEFAULTS.controlPort }),
  host: Type.String({ default: '127.0.0.1' }),
  idleTimeoutMs: Positive({ default: 25_000 }),
  /** A second client gets `Busy!` (plain ETHM-1) or takes the link over (ETHM-1 Plus behaviour). */
  secondClient: OneOf(['busy', 'takeover'] as const, 'busy'),
  exitDelayMs: Type.Integer({ minimum: 0, default: 0 }),
  logSize: Positive({ maximum: 1_000_000, default: 1_000 }),
  /**
   * Index of each panel's first log record. Default: the start time in seconds (mod 2^24), so a restarted
   * simulator does not hand out the indices of its previous run again (as long as that run wrote fewer
   * records per panel than seconds have passed since it started).
   */
  firstLogIndex: Type.Integer({ minimum: 0, maximum: 0xfffffe, default: () => Math.floor(Date.now() / 1000) % 0xfffffe }),
  traceCapacity: Positive({ default: 200_000 }),
  /** A scenario file to run once the simulator has started. */
  scenario: Type.Optional(Type.String()),
});

type SimulatorSettings = Static<typeof SimulatorOptionsSchema>;
/** What the schema accepts: the settings with a default may be left out, numbers may come as strings. */
type SimulatorOptions = Partial<SimulatorSettings> & Pick<SimulatorSettings, 'panels'> & {
  log?: Logger;
  /** Called for every event-log record any panel writes (trace set when the simulator generated it). */
  onEvent?: (panel: number, record: LogRecord, trace: Trace | undefined) => void;
  /** A GSM modem simulator (stam simulator --modem): started and stopped with the panels, its routes on the control API. */
  modem?: ModemSimulator;
};

/** The settings with defaults filled and numbers coerced; a bad one throws E_CONFIG naming it. */
function settingsOf(raw: unknown): SimulatorSettings {
  const where = 'invalid simulator options';
  const s = parseValue(SimulatorOptionsSchema, raw, { where, convert: true, code: 'E_CONFIG' });
  if (s.basePort !== 0 && s.basePort + s.panels - 1 > 65_535) {
    throw new StamError('E_CONFIG', `${where}: basePort: ports ${s.basePort}..${s.basePort + s.panels - 1} exceed 65535`);
  }
  // Only the Plus module has integration encryption.
  if (s.encryptionKey !== undefined && s.module !== 'ethm1plus') throw new StamError('E_CONFIG', `${where}: encryptionKey: integration encryption needs module ethm1plus`);
  return s;
}

export type Simulator = {
  readonly settings: SimulatorSettings;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Panel n (1-based). */
  panel(n: number): Panel;
  /** Bound TCP port of each panel, index 0 = panel 1 (valid after start). */
  readonly ports: number[];
  /** Base URL of the control API (valid after start). */
  readonly controlUrl: string;
  /** The same actions the control API and scenarios use. */
  perform(n: number, action: Action, params?: ActionParams): ActionResult;
  runScenario(s: Scenario): ScenarioRun & { id: number };
};

export function createSimulator(options: SimulatorOptions): Simulator {
  const { log: givenLog, onEvent, modem, ...raw } = options;
  const s = settingsOf(raw);
  const log = givenLog ?? createLogger('simulator', 'silent');
  const rng = createRng(s.seed);
  const traces = createTraceRing(s.traceCapacity);

  const panels: Panel[] = [];
  const servers: PanelServer[] = [];
  for (let i = 1; i <= s.panels; i++) {
    const panel = createPanel({ model: s.model, module: s.module, userCode: s.userCode, exitDelayMs: s.exitDelayMs, logSize: s.logSize, firstLogIndex: s.firstLogIndex });
    if (onEvent) panel.onRecord((rec, trace) => onEvent(i, rec, trace));
    panels.push(panel);
    servers.push(createPanelServer({
      panel, number: i, host: s.host, port: s.basePort === 0 ? 0 : s.basePort + i - 1,
      idleTimeoutMs: s.idleTimeoutMs, encryptionKey: s.encryptionKey, secondClient: s.secondClient, log,
    }));
  }

  const panel = (n: number): Panel => {
    const p = panels[n - 1];
    if (!p) throw new RangeError(`panel ${n} outside 1..${s.panels}`);
    return p;
  };
  const ctx: ActionContext = { panelCount: s.panels, panel, link: (n) => servers[n - 1]!.link, traces };
  const perform = (n: number, action: Action, params: ActionParams = {}): ActionResult => performAction(ctx, n, action, params);

  /** Running scenarios by id; a finished one leaves the table. */
  const scenarioRuns = new Map<number, ScenarioRun>();
  let nextScenarioId = 1;
  const startScenario = (sc: Scenario): ScenarioRun & { id: number } => {
    const run = runScenario(sc, { panelCount: s.panels, perform: (n, a, p) => void perform(n, a, p) });
    const id = nextScenarioId++;
    scenarioRuns.set(id, run);
    log.info({ scenario: sc.name, id, steps: sc.steps.length }, 'scenario started');
    void run.done.then(() => {
      scenarioRuns.delete(id);
      log.info({ scenario: sc.name, id, ...run.stats }, 'scenario finished');
    });
    return Object.assign(run, { id });
  };

  let rate: RateRun | undefined;
  const target: ControlTarget = {
    panelCount: s.panels,
    panelInfo: (n) => {
      const srv = servers[n - 1]!;
      return { panel: n, port: srv.port, model: s.model, module: s.module, connected: srv.connected, monitoring: srv.monitoring, stats: srv.stats };
    },
    snapshot: (n) => panel(n).snapshot(),
    perform,
    traces,
    runScenario: (sc) => {
      const run = startScenario(sc);
      return { id: run.id, name: sc.name, steps: sc.steps.length };
    },
    stopScenarios: () => {
      const n = scenarioRuns.size;
      for (const run of scenarioRuns.values()) run.stop();
      scenarioRuns.clear();
      return n;
    },
    scenarios: () => [...scenarioRuns].map(([id, run]) => ({ id, name: run.name, ...run.stats })),
    startRate: (req) => {
      rate?.stop();
      rate = startRate(req, {
        panelCount: s.panels,
        zoneCount: panel(1).zones,
        fire: (n, zone) => void perform(n, panel(n).store.get(ZONE_CMD.violation, zone) ? 'restore' : 'violate', { zone }),
      }, rng);
      log.info({ ...req }, 'rate generator started');
      return rate.status();
    },
    stopRate: () => {
      rate?.stop();
      return rate?.status();
    },
    rateStatus: () => rate?.status(),
  };

  const control: ControlServer = createControlServer({ target, port: s.controlPort, host: s.host, log, modem });
  let ticker: NodeJS.Timeout | undefined;

  return {
    settings: s,
    panel,
    perform,
    runScenario: startScenario,
    get ports() {
      return servers.map((srv) => srv.port);
    },
    get controlUrl() {
      return control.url;
    },
    async start() {
      const t0 = performance.now();
      const results = await Promise.allSettled(servers.map((srv) => srv.start()));
      const failed = results.findIndex((r) => r.status === 'rejected');
      if (failed >= 0) {
        await Promise.all(servers.map((srv) => srv.stop()));
        const reason = (results[failed] as PromiseRejectedResult).reason as Error;
        throw new Error(`panel ${failed + 1} cannot listen on ${s.host}:${s.basePort === 0 ? 0 : s.basePort + failed}: ${reason.message}`);
      }
      await modem?.start();
      await control.start();
      // Exit times complete on a shared 100 ms tick, only for panels that are counting down.
      ticker = setInterval(() => {
        for (const p of panels) if (p.hasPendingExit()) p.tick();
      }, 100);
      ticker.unref();
      log.info({ panels: s.panels, firstPort: servers[0]!.port, control: control.url, ms: Math.round(performance.now() - t0) }, 'simulator started');
      if (s.scenario !== undefined) startScenario(parseScenario(await readFile(s.scenario, 'utf8'), s.scenario));
    },
    async stop() {
      if (ticker) clearInterval(ticker);
      rate?.stop();
      target.stopScenarios();
      await control.stop();
      await modem?.stop();
      await Promise.all(servers.map((srv) => srv.stop()));
      log.info('simulator stopped');
    },
  };
}

// The fake FCM (HTTP v1 over HTTPS) of `stam simulator --fcm`, `npm start`, the tests and bench:push.
export { createFakeFcm, ensureFakeFcmFiles, FAKE_PROJECT_ID } from './fcm/index.ts';
export type { Answer, Behaviour, FakeFcm, FakeFcmFiles, FakeFcmOptions, Received, Shown } from './fcm/index.ts';
