import type { Command } from 'commander';
import { resolve } from 'node:path';
import type { Config, Service } from '../platform/index.ts';
import { createFakeFcm, createModemSimulator, createSimulator, type FakeFcm } from '../simulator/index.ts';
import type { RoleContext } from './context.ts';

/** `stam simulator` flags; defaults come from SIMULATOR_* variables so `stam all` and the seed agree. */
export function simulatorOptions(cmd: Command): Command {
  return cmd
    .option('--panels <n>', 'number of panels (default SIMULATOR_PANELS)')
    .option('--port <p>', 'first panel port; panel i listens on port+i-1 (default SIMULATOR_PORT)')
    .option('--model <m>', 'panel model: integra24|integra32|integra64|integra128|integra128wrl|integra64plus|integra128plus|integra256plus')
    .option('--module <m>', 'ethm1 (plain) or ethm1plus (monitoring mode, encryption)')
    .option('--encryption-key <k>', 'integration key: every panel encrypts (ETHM-1 Plus)')
    .option('--user-code <c>', 'user code the panels accept (default SIMULATOR_USER_CODE)')
    .option('--seed <s>', 'random seed for generated events')
    .option('--control-port <p>', 'control API port (default SIMULATOR_CONTROL_PORT)')
    .option('--idle-timeout-ms <ms>', 'drop a silent client after this long (default 25000)')
    .option('--exit-delay-ms <ms>', 'exit delay when arming (default 0)')
    .option('--scenario <file>', 'a scenario file to run after start (see simulator/scenarios/)')
    .option('--fcm', 'also run the fake FCM (HTTP v1 over HTTPS) on SIMULATOR_FCM_PORT')
    .option('--fcm-only', 'run only the fake FCM, no panels')
    .option('--fcm-dir <dir>', `the fake FCM's CA, certificate and service account (default ${FAKE_FCM_DIR})`)
    .option('--modem', 'also simulate a GSM modem on a pty (socat) at --modem-device; its control API under /modem')
    .option('--modem-device <path>', 'the pty link the modem simulator creates (default SIMULATOR_MODEM_DEVICE)')
    .option('--modem-capacity <n>', 'slots of the simulated SIM store (default 50)');
}

/** Where the fake FCM of the demo keeps its CA (NODE_EXTRA_CA_CERTS) and service account (FCM_CREDENTIALS_FILE). */
export const FAKE_FCM_DIR = '.data/fake-fcm';

async function startFakeFcm(ctx: RoleContext, o: Record<string, unknown>): Promise<FakeFcm> {
  const c: Config = ctx.config;
  const fcm = createFakeFcm({ dir: (o.fcmDir as string | undefined) ?? FAKE_FCM_DIR, port: c.SIMULATOR_FCM_PORT, log: ctx.log });
  await fcm.start();
  ctx.log.info({ url: fcm.url, ca: fcm.caFile, credentials: fcm.credentialsFile }, 'fake FCM: NODE_EXTRA_CA_CERTS=<ca> FCM_CREDENTIALS_FILE=<credentials> FCM_API_URL=<url>');
  return fcm;
}

export async function startSimulatorRole(ctx: RoleContext, o: Record<string, unknown>): Promise<Service> {
  const { config } = ctx;
  const fcm = o.fcm || o.fcmOnly ? await startFakeFcm(ctx, o) : undefined;
  if (o.fcmOnly) {
    await ctx.startOps();
    return fcm!;
  }
  const modem = o.modem
    ? createModemSimulator({
      device: resolve((o.modemDevice as string | undefined) ?? config.SIMULATOR_MODEM_DEVICE), log: ctx.log,
      ...(o.modemCapacity ? { capacity: Number(o.modemCapacity) } : {}),
    })
    : undefined;
  const sim = createSimulator({
    panels: Number(o.panels ?? config.SIMULATOR_PANELS),
    basePort: Number(o.port ?? config.SIMULATOR_PORT),
    controlPort: Number(o.controlPort ?? config.SIMULATOR_CONTROL_PORT),
    userCode: (o.userCode as string | undefined) ?? config.SIMULATOR_USER_CODE,
    ...(o.model ? { model: o.model as never } : {}),
    ...(o.module ? { module: o.module as never } : {}),
    ...(o.encryptionKey ? { encryptionKey: o.encryptionKey as string } : {}),
    ...(o.seed ? { seed: Number(o.seed) } : {}),
    ...(o.idleTimeoutMs ? { idleTimeoutMs: Number(o.idleTimeoutMs) } : {}),
    ...(o.exitDelayMs ? { exitDelayMs: Number(o.exitDelayMs) } : {}),
    ...(o.scenario ? { scenario: o.scenario as string } : {}),
    log: ctx.log,
    ...(modem ? { modem } : {}),
  });
  await ctx.startOps();
  await sim.start();
  ctx.log.info({ panels: sim.ports.length, firstPort: sim.ports[0], control: sim.controlUrl, modem: modem?.device }, 'simulator serving panels');
  return { stop: async () => { await sim.stop(); await fcm?.stop(); } };
}
