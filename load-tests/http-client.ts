import { Agent, request } from 'node:http';

// node:http with keep-alive: fetch costs this 2-core machine more CPU than the gateway's own work per request.
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** Closes the kept-alive connections (at the end of a benchmark, so the process can exit). */
export function closeHttp(): void {
  agent.destroy();
}

/** One JSON request over a kept-alive connection, with its latency as the client saw it. */
export function http<T>(base: string, method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; ms: number; body: T }> {
  const t0 = performance.now();
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, {
      method, agent,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        const isJson = String(res.headers['content-type'] ?? '').includes('json');
        resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, body: (isJson ? JSON.parse(text || 'null') : text) as T });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}
