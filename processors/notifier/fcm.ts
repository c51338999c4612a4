import { Agent } from 'node:https';
import { isIP } from 'node:net';
import { connect, type ConnectionOptions } from 'node:tls';
import { deleteApp, initializeApp, type App } from 'firebase-admin/app';
import { getMessaging, type BatchResponse, type Messaging, type MulticastMessage } from 'firebase-admin/messaging';
import type { Logger } from '../../platform/index.ts';
import { readServiceAccount, serviceAccountCredential, type ServiceAccountCredential } from './credential.ts';

/** firebase-admin's FCM host: requests go there unless FCM_API_URL names another endpoint. */
export const FCM_HOST = 'fcm.googleapis.com';

export interface FcmClientOptions {
  credentialsFile: string;
  /** Default: the service account's project_id. */
  projectId?: string | undefined;
  /** FCM_API_URL: an origin; another host than fcm.googleapis.com (the fake FCM) gets the connections instead. */
  apiUrl: string;
  maxSockets: number;
  log: Logger;
}

export interface FcmClient {
  readonly projectId: string;
  /** sendEachForMulticast: one `messages:send` per token; per-token answers in `responses[i]`. */
  send(message: MulticastMessage): Promise<BatchResponse>;
  /** A token from the service account's token_uri (cached): throws E_FCM_CREDENTIAL when refused. */
  check(): Promise<void>;
  close(): Promise<void>;
}

/**
 * HTTPS connections for FCM_API_URL. firebase-admin addresses fcm.googleapis.com; for another endpoint
 * every connection goes to that host and port instead, and its certificate is verified against that
 * host (trusting a private CA is NODE_EXTRA_CA_CERTS' job, never switched off here).
 */
export function fcmAgent(apiUrl: string, maxSockets: number): Agent {
  const target = new URL(apiUrl);
  const agent = new Agent({ keepAlive: true, maxSockets, scheduling: 'fifo' });
  if (target.hostname === FCM_HOST && (target.port === '' || target.port === '443')) return agent;
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const port = Number(target.port || 443);
  const redirected = agent as Agent & { createConnection(o: ConnectionOptions, cb?: () => void): unknown };
  redirected.createConnection = (o: ConnectionOptions) => connect({ ...o, host, port, servername: isIP(host) ? '' : host });
  return agent;
}

let apps = 0;

/**
 * The real firebase-admin SDK with this project's credential (credential.ts) and agent. Its HTTP/1.1
 * transport is used everywhere, in production too: the HTTP/2 one ignores the agent, and what runs in
 * production is then what the tests run against the fake FCM.
 */
export function createFcmClient(o: FcmClientOptions): FcmClient {
  const sa = readServiceAccount(o.credentialsFile);
  const credential: ServiceAccountCredential = serviceAccountCredential(sa);
  const projectId = o.projectId ?? sa.project_id;
  const agent = fcmAgent(o.apiUrl, o.maxSockets);
  const app: App = initializeApp({ credential, projectId, httpAgent: agent }, `stam-notifier-${++apps}`);
  const messaging: Messaging = getMessaging(app);
  messaging.enableLegacyHttpTransport();
  o.log.info({ project: projectId, account: sa.client_email, api: o.apiUrl, tokenUri: sa.token_uri }, 'FCM client ready');
  return {
    projectId,
    send: (message) => messaging.sendEachForMulticast(message),
    async check() { await credential.getAccessToken(); },
    async close() {
      await deleteApp(app).catch(() => undefined);
      agent.destroy();
    },
  };
}
