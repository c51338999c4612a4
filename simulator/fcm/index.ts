/**
 * A fake FCM that speaks the real HTTP v1 protocol over HTTPS on loopback: what `stam simulator --fcm`,
 * `npm start`, the tests and the push benchmark send to. See server.ts for what it answers and
 * pki.ts for its CA and service account.
 */
import { join } from 'node:path';
import { createLogger, type Logger } from '../../platform/logger.ts';
import { FAKE_PROJECT_ID, ensurePki, ensureServiceAccount, serviceAccount } from './pki.ts';
import { createFakeFcmServer, type Behaviour, type FakeFcmState, type Received, type Shown } from './server.ts';

export type { Answer } from './protocol.ts';
export type { Behaviour, Received, Shown } from './server.ts';
export { ensureFakeFcmFiles, FAKE_PROJECT_ID } from './pki.ts';
export type { FakeFcmFiles } from './pki.ts';

export interface FakeFcmOptions {
  /** Where the CA, certificate and service account live (kept across restarts). */
  dir: string;
  /** 0: any free port. */
  port: number;
  host?: string;
  projectId?: string;
  log?: Logger;
}

export interface FakeFcm {
  readonly url: string;
  readonly port: number;
  readonly projectId: string;
  /** The private CA: give it to the notifier as NODE_EXTRA_CA_CERTS. */
  readonly caFile: string;
  /** A service account the fake trusts, token_uri at the fake: FCM_CREDENTIALS_FILE. */
  readonly credentialsFile: string;
  /** Every message accepted, oldest first. */
  readonly received: readonly Received[];
  /** The drawer of the phone with this token: one notification per tag. */
  phone(token: string): Shown[];
  /** How sends to `token` are answered ('*': every token without its own behaviour). */
  behave(token: string, b: Behaviour): void;
  /** Times each answer was given (ok, unregistered, invalid, quota, unavailable, internal, unauthenticated, bad_payload …). */
  answered(answer: string): number;
  readonly tokenGrants: number;
  readonly tokenRefusals: number;
  /** Trust another service-account key (PEM, SPKI): its token requests are granted from now on. */
  trustKey(publicPem: string): Promise<void>;
  /** A service account for this project whose key the fake does not trust (until trustKey). */
  untrustedServiceAccount(): { json: string; publicPem: string };
  revokeAccessTokens(): void;
  reset(): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createFakeFcm(o: FakeFcmOptions): FakeFcm {
  const log = o.log ?? createLogger('fake-fcm', 'silent');
  const host = o.host ?? '127.0.0.1';
  const projectId = o.projectId ?? FAKE_PROJECT_ID;
  const pki = ensurePki(o.dir);
  const state: FakeFcmState = {
    projectId, received: [], phones: new Map(), behaviours: new Map(), defaultBehaviour: { answer: 'ok' }, answers: new Map(), tokenGrants: 0, tokenRefusals: 0,
  };
  const server = createFakeFcmServer({ state, host, port: o.port, certPem: pki.certPem, keyPem: pki.keyPem, publicKeys: [], log });
  let credentialsFile = join(o.dir, 'service-account.json');

  return {
    get url() { return `https://${host}:${server.port}`; },
    get port() { return server.port; },
    projectId,
    caFile: pki.caFile,
    get credentialsFile() { return credentialsFile; },
    get received() { return state.received; },
    phone: (token) => [...(state.phones.get(token)?.values() ?? [])],
    behave(token, b) {
      if (token === '*') state.defaultBehaviour = { ...b };
      else state.behaviours.set(token, { ...b });
    },
    answered: (answer) => state.answers.get(answer) ?? 0,
    get tokenGrants() { return state.tokenGrants; },
    get tokenRefusals() { return state.tokenRefusals; },
    trustKey: (pem) => server.trustKey(pem),
    untrustedServiceAccount: () => serviceAccount({ projectId, tokenUri: `https://127.0.0.1:${server.port}/token` }),
    revokeAccessTokens: () => server.revokeAccessTokens(),
    reset() {
      state.received.length = 0;
      state.phones.clear();
      state.behaviours.clear();
      state.answers.clear();
      state.defaultBehaviour = { answer: 'ok' };
    },
    async start() {
      await server.start();
      // The service account names the port the fake really listens on (a free one when asked for 0).
      const sa = ensureServiceAccount(o.dir, server.port, projectId);
      credentialsFile = sa.credentialsFile;
      await server.trustKey(sa.publicPem);
      log.info({ url: `https://${host}:${server.port}`, project: projectId, ca: pki.caFile, credentials: credentialsFile }, 'fake FCM listening');
    },
    stop: () => server.stop(),
  };
}
