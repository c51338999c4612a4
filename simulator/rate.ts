/**
 * Load generator: a steady rate of zone events spread over panels and zones for a duration. Panels are
 * taken round-robin so every panel carries the same share; zones are drawn from a seeded generator so
 * a run can be repeated exactly.
 */
import { Type, type Static } from '@sinclair/typebox';

/** A count (1..n) or a list of numbers. */
const Selection = Type.Union([Type.Integer({ minimum: 1 }), Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1 })],
  { description: 'a count or a non-empty list of numbers' });

export const RateRequestSchema = Type.Object({
  eventsPerSecond: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }),
  durationS: Type.Number({ exclusiveMinimum: 0, maximum: 86_400 }),
  /** A count (panels 1..n) or a list of panel numbers; default every panel. */
  panels: Type.Optional(Selection),
  /** A count (zones 1..n) or a list of zone numbers; default every zone of the model. */
  zones: Type.Optional(Selection),
}, { additionalProperties: false });
export type RateRequest = Static<typeof RateRequestSchema>;

export type RateStatus = {
  running: boolean;
  eventsPerSecond: number;
  durationS: number;
  total: number;
  sent: number;
  errors: number;
  lastError?: string;
  startedAtMs: number;
};

export type RateRun = {
  status(): RateStatus;
  readonly done: Promise<void>;
  stop(): void;
};

type RateTarget = {
  panelCount: number;
  zoneCount: number;
  /** One event on (panel, zone); throws on failure. */
  fire(panel: number, zone: number): void;
};


function expand(spec: number | number[] | undefined, max: number, what: string): number[] {
  const list = spec === undefined ? max : spec;
  const out = typeof list === 'number' ? Array.from({ length: list }, (_, i) => i + 1) : list;
  const bad = out.filter((n) => n > max);
  if (bad.length > 0) throw new RangeError(`${what} ${bad.slice(0, 5).join(', ')} outside 1..${max}`);
  return out;
}

const TICK_MS = 10;

export function startRate(req: RateRequest, target: RateTarget, rng: () => number): RateRun {
  const panels = expand(req.panels, target.panelCount, 'panel');
  const zones = expand(req.zones, target.zoneCount, 'zone');
  const total = Math.round(req.eventsPerSecond * req.durationS);
  const startedAtMs = Date.now();
  const t0 = performance.now();
  let sent = 0;
  let errors = 0;
  let lastError: string | undefined;
  let running = true;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));

  const finish = (): void => {
    if (!running) return;
    running = false;
    clearInterval(timer);
    resolveDone();
  };

  const tick = (): void => {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * req.eventsPerSecond) / 1000));
    while (sent < due && running) {
      const panel = panels[sent % panels.length]!;
      const zone = zones[Math.floor(rng() * zones.length)]!;
      sent++;
      try {
        target.fire(panel, zone);
      } catch (err) {
        errors++;
        lastError = (err as Error).message;
      }
    }
    if (sent >= total) finish();
  };
  const timer = setInterval(tick, TICK_MS);
  setImmediate(tick);

  return {
    status: () => ({
      running, eventsPerSecond: req.eventsPerSecond, durationS: req.durationS, total, sent, errors, startedAtMs,
      ...(lastError !== undefined ? { lastError } : {}),
    }),
    done,
    stop: finish,
  };
}
