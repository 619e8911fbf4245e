/**
 * How much of a request's client CPU is the SDK's HTTP layer? The same Task fetches through createTwilioClient (the
 * SDK with TwilioHttpClient's node:http transport; before that change, axios) and through the SDK with the minimal experimental node:http httpClient, at 50 in flight
 * against the emulator process (no latency, no cap). Round 1 includes warm-up. `npx tsx bench/profileHttp.ts`
 */
import pLimit from 'p-limit';
import { startEmulatorProcess } from './emulatorProcess';
import { DEFAULT_MIX } from './sweep';
import { createTwilioClient } from '../src/twilio/client';
import { createNodeHttpTwilioClient } from './nativeHttpClient';

async function main(): Promise<void> {
  const emu = await startEmulatorProcess({ seed: 42 });
  await emu.setFaults({ latencyMs: 0, cap: 0 });
  const seeded = await emu.reseed({ seed: 42, tasks: 2000, mix: DEFAULT_MIX });
  const sids = seeded.byCategory.voiceEnded;
  const lim = pLimit(50);
  for (const round of [1, 2]) {
    const ax = createTwilioClient({ accountSid: emu.accountSid, authToken: emu.authToken, baseUrl: emu.url, maxInFlight: 50, requestTimeoutMs: 30000, workspaceSids: [], flowSids: [] });
    const nat = createNodeHttpTwilioClient({ accountSid: emu.accountSid, authToken: emu.authToken, baseUrl: emu.url });
    for (const [name, c] of [['createTwilioClient (TwilioHttpClient)', ax], ['node:http httpClient', nat]] as const) {
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
