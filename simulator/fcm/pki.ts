/**
 * The fake FCM's files: a private CA and a certificate for 127.0.0.1/localhost signed by it (trusted by the
 * notifier through Node's standard NODE_EXTRA_CA_CERTS, never by switching verification off), and a
 * Firebase service-account file whose `token_uri` is the fake's own `/token`. Made once per directory
 * and reused, so a restarted fake keeps the CA the notifier already trusts.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

export interface FakeFcmFiles {
  dir: string;
  /** The private CA (PEM): what NODE_EXTRA_CA_CERTS names. */
  caFile: string;
  certPem: string;
  keyPem: string;
  /** A Firebase service-account JSON for the fake's project (FCM_CREDENTIALS_FILE). */
  credentialsFile: string;
  projectId: string;
}

const YEAR_MS = 365 * 86_400_000;

/** The project of the fake's service account. */
export const FAKE_PROJECT_ID = 'stam-fake-fcm';

function rsaKeys(): { publicPem: string; privatePem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

function certificate(o: {
  subject: string; publicPem: string; signerPem: string; issuer?: forge.pki.Certificate; ca: boolean;
}): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(o.publicPem);
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 3_600_000);
  cert.validity.notAfter = new Date(Date.now() + 5 * YEAR_MS);
  const attrs = [{ name: 'commonName', value: o.subject }, { name: 'organizationName', value: 'stam-replacer fake FCM' }];
  cert.setSubject(attrs);
  cert.setIssuer(o.issuer ? o.issuer.subject.attributes : attrs);
  cert.setExtensions(o.ca
    ? [{ name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }]
    : [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
    ]);
  cert.sign(forge.pki.privateKeyFromPem(o.signerPem), forge.md.sha256.create());
  return cert;
}

/** A service-account JSON as Google issues them, with `token_uri` at the fake and a fresh key. */
export function serviceAccount(o: { projectId: string; tokenUri: string; clientEmail?: string }): { json: string; publicPem: string } {
  const keys = rsaKeys();
  const json = JSON.stringify({
    type: 'service_account', project_id: o.projectId, private_key_id: randomBytes(20).toString('hex'), private_key: keys.privatePem,
    client_email: o.clientEmail ?? `firebase-adminsdk@${o.projectId}.iam.gserviceaccount.com`, client_id: String(BigInt(`0x${randomBytes(8).toString('hex')}`)),
    auth_uri: 'https://accounts.google.com/o/oauth2/auth', token_uri: o.tokenUri,
  }, null, 2);
  return { json, publicPem: keys.publicPem };
}

/** The private CA and the server certificate in `dir` (made when missing). */
export function ensurePki(dir: string): { caFile: string; certPem: string; keyPem: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caFile = join(dir, 'ca.pem');
  const caKeyFile = join(dir, 'ca.key');
  const certFile = join(dir, 'server.pem');
  const keyFile = join(dir, 'server.key');
  if (![caFile, caKeyFile, certFile, keyFile].every((f) => existsSync(f))) {
    const caKeys = rsaKeys();
    const ca = certificate({ subject: 'stam-replacer fake FCM CA', publicPem: caKeys.publicPem, signerPem: caKeys.privatePem, ca: true });
    const serverKeys = rsaKeys();
    const server = certificate({ subject: '127.0.0.1', publicPem: serverKeys.publicPem, signerPem: caKeys.privatePem, issuer: ca, ca: false });
    writeFileSync(caKeyFile, caKeys.privatePem, { mode: 0o600 });
    writeFileSync(keyFile, serverKeys.privatePem, { mode: 0o600 });
    writeFileSync(certFile, forge.pki.certificateToPem(server));
    writeFileSync(caFile, forge.pki.certificateToPem(ca));
  }
  return { caFile, certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
}

/**
 * The service account of the fake's project in `dir`, with token_uri at the fake on `port` (made anew when
 * missing or naming another port or project); returns its file and public key.
 */
export function ensureServiceAccount(dir: string, port: number, projectId: string): { credentialsFile: string; publicPem: string } {
  const credentialsFile = join(dir, 'service-account.json');
  const publicKeyFile = join(dir, 'service-account.pub');
  const tokenUri = `https://127.0.0.1:${port}/token`;
  const current = existsSync(credentialsFile) ? JSON.parse(readFileSync(credentialsFile, 'utf8')) as { token_uri?: string; project_id?: string } : undefined;
  if (!current || current.token_uri !== tokenUri || current.project_id !== projectId || !existsSync(publicKeyFile)) {
    const sa = serviceAccount({ projectId, tokenUri });
    writeFileSync(credentialsFile, sa.json, { mode: 0o600 });
    writeFileSync(publicKeyFile, sa.publicPem);
  }
  return { credentialsFile, publicPem: readFileSync(publicKeyFile, 'utf8') };
}

/** Every file of a fake FCM that will listen on `port` (a fixed port: `npm start` makes them before the notifier starts). */
export function ensureFakeFcmFiles(dir: string, port: number, projectId = FAKE_PROJECT_ID): FakeFcmFiles {
  const pki = ensurePki(dir);
  const sa = ensureServiceAccount(dir, port, projectId);
  return { dir, caFile: pki.caFile, certPem: pki.certPem, keyPem: pki.keyPem, credentialsFile: sa.credentialsFile, projectId };
}
