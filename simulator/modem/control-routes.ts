/**
 * The modem's part of the simulator control API (beside the panels' routes, same port): deliver an SMS,
 * look at the SIM store, and inject faults. Bodies are checked with TypeBox like the panels' ones.
 */
import { Type, type TSchema, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { parseValue } from '../../platform/validate.ts';
import type { ModemSimulator } from './index.ts';
import { DeliverSchema } from './requests.ts';

const Ms = (def: number) => Type.Object({ ms: Type.Integer({ minimum: 0, maximum: 600_000, default: def }) }, { additionalProperties: false });
const Reset = Type.Object({ ms: Type.Integer({ minimum: 0, maximum: 60_000, default: 1000 }), midAnswer: Type.Boolean({ default: false }) }, { additionalProperties: false });
const OnOff = Type.Object({ on: Type.Boolean({ default: true }) }, { additionalProperties: false });
const Garbage = Type.Object({ next: Type.Integer({ minimum: 0, maximum: 1000, default: 0, description: 'also into the next N answers' }) }, { additionalProperties: false });
const Delay = Type.Object({ command: Type.String({ pattern: '^(\\*|[A-Za-z]{1,8})$' }), ms: Type.Integer({ minimum: 0, maximum: 60_000 }) }, { additionalProperties: false });

function body<T extends TSchema>(schema: T, raw: unknown): Static<T> {
  try {
    return parseValue(schema, raw ?? {});
  } catch (err) {
    throw Object.assign(new Error((err as Error).message), { statusCode: 400 });
  }
}

export function modemRoutes(app: FastifyInstance, modem: ModemSimulator): void {
  app.get('/modem', () => modem.status);
  app.get('/modem/sms', () => modem.stored());
  app.post('/modem/sms', (req) => {
    try {
      return modem.deliver(body(DeliverSchema, req.body));
    } catch (err) {
      throw Object.assign(new Error((err as Error).message), { statusCode: 400 });
    }
  });
  app.post('/modem/fault/garbage', (req) => {
    const { next } = body(Garbage, req.body);
    modem.modem.garbageNow();
    if (next > 0) modem.modem.garbageInto(next);
    return { garbage: true, next };
  });
  app.post('/modem/fault/reset', (req) => {
    const { ms, midAnswer } = body(Reset, req.body);
    modem.modem.reset(ms, midAnswer);
    return { reset: true, ms, midAnswer };
  });
  app.post('/modem/fault/hang', (req) => {
    const { ms } = body(Ms(5000), req.body);
    modem.modem.hang(ms);
    return { hang: ms };
  });
  app.post('/modem/fault/storage-full', (req) => {
    const { on } = body(OnOff, req.body);
    modem.storageFull(on);
    return modem.status;
  });
  app.post('/modem/fault/vanish', async (req) => {
    const { ms } = body(Ms(3000), req.body);
    await modem.vanish(ms);
    return { vanished: ms };
  });
  app.post('/modem/fault/delay', (req) => {
    const { command, ms } = body(Delay, req.body);
    modem.modem.delay(command, ms);
    return { command, ms };
  });
}
