/**
 * How much of a request's client CPU is the SDK's HTTP layer? The same Task fetches through createTwilioClient (the
 * twilio SDK's RequestClient, i.e. axios) and through the SDK with a minimal node:http httpClient, at 50 in flight
 * against the emulator process (no latency, no cap). Round 1 includes warm-up. `npx tsx bench/profileHttp.ts`
 */
import * as http from 'node:http';
import twilio from 'twilio';
import pLimit from 'p-limit';
import { startEmulatorProcess } from './emulatorProcess';
import { DEFAULT_MIX } from './sweep';
import { createTwilioClient, twilioHostRewrite } from '../src/twilio/client';

/** Form/query encoding as the SDK does it (arrays as repeated parameters). */
function encode(o: object): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) for (const x of Array.isArray(v) ? v : [v]) if (x !== undefined) p.append(k, String(x));
  return p.toString();
}

class NativeClient {
  agent = new http.Agent({ keepAlive: true, maxSockets: 100 });
  constructor(private base: string) {}
  request(opts: { method: string; uri: string; username?: string; password?: string; headers?: Record<string, string>; params?: object; data?: object }) {
    let url = twilioHostRewrite(opts.uri, this.base);
    if (opts.params && Object.keys(opts.params).length) url += (url.includes('?') ? '&' : '?') + encode(opts.params);
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    headers.Authorization = 'Basic ' + Buffer.from(`${opts.username}:${opts.password}`).toString('base64');
    const body = opts.data ? encode(opts.data) : undefined;
    if (body) headers['Content-Length'] = String(Buffer.byteLength(body));
    return new Promise((resolve, reject) => {
      const req = http.request(url, { method: opts.method.toUpperCase(), headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ statusCode: res.statusCode, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}

async function main(): Promise<void> {
  const emu = await startEmulatorProcess({ seed: 42 });
  await emu.setFaults({ latencyMs: 0, cap: 0 });
  const seeded = await emu.reseed({ seed: 42, tasks: 2000, mix: DEFAULT_MIX });
  const sids = seeded.byCategory.voiceEnded;
  const lim = pLimit(50);
  for (const round of [1, 2]) {
    const ax = createTwilioClient({ accountSid: emu.accountSid, authToken: emu.authToken, baseUrl: emu.url, maxInFlight: 50, requestTimeoutMs: 30000, workspaceSids: [], flowSids: [] });
    const nat = twilio(emu.accountSid, emu.authToken, { accountSid: emu.accountSid, httpClient: new NativeClient(emu.url) as never });
    for (const [name, c] of [['axios (createTwilioClient)', ax], ['node:http httpClient', nat]] as const) {
      const ws = c.taskrouter.v1.workspaces(seeded.workspaceSid);
      const c0 = process.cpuUsage();
      const t = performance.now();
      await Promise.all(sids.map((s) => lim(() => ws.tasks(s).fetch())));
      const ms = performance.now() - t;
      const cpu = process.cpuUsage(c0);
      console.log(`round ${round} ${name}: ${sids.length} fetches ${ms.toFixed(0)} ms, ${(sids.length / ms * 1000).toFixed(0)} req/s, client CPU ${((cpu.user + cpu.system) / sids.length / 1000).toFixed(2)} ms/request`);
    }
  }
  await emu.stop();
}
main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
