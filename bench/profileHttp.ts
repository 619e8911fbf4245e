/**
 * How much client CPU does one Twilio request cost in the HTTP layer under the SDK? The same Task fetches, 50 in
 * flight, against the emulator process (no latency, no cap), through: createTwilioClient (TwilioHttpClient on
 * undici, what unstick ships), the SDK with the minimal experimental node:http httpClient, and the SDK's own
 * RequestClient (axios). Prints client CPU per request for each of 5 rounds (the first ones include JIT warm-up).
 * `npx tsx bench/profileHttp.ts`
 */
import pLimit from 'p-limit';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import { startEmulatorProcess } from './emulatorProcess';
import { DEFAULT_MIX } from './sweepReport';
import { createTwilioClient, twilioHostRewrite, type TwilioClient } from '../src/twilio/client';
import { createNodeHttpTwilioClient } from './nativeHttpClient';

/** The SDK's default httpClient (axios), aimed at the emulator. */
function axiosClient(o: { accountSid: string; authToken: string; baseUrl: string }): TwilioClient {
  class EmulatorRequestClient extends twilio.RequestClient {
    override request<T>(opts: RequestClient.RequestOptions<T>) {
      return super.request({ ...opts, uri: twilioHostRewrite(opts.uri, o.baseUrl) });
    }
  }
  return twilio(o.accountSid, o.authToken, { accountSid: o.accountSid, httpClient: new EmulatorRequestClient({ keepAlive: true }) });
}

async function main(): Promise<void> {
  const emu = await startEmulatorProcess({ seed: 42 });
  await emu.setFaults({ latencyMs: 0, cap: 0 });
  const seeded = await emu.reseed({ seed: 42, tasks: 4000, mix: DEFAULT_MIX });
  const sids = seeded.byCategory.voiceEnded;
  const lim = pLimit(50);
  const creds = { accountSid: emu.accountSid, authToken: emu.authToken, baseUrl: emu.url };
  const clients: Array<[string, TwilioClient]> = [
    ['createTwilioClient (undici)', createTwilioClient({ ...creds, maxInFlight: 50, requestTimeoutMs: 30_000, workspaceSids: [], flowSids: [] })],
    ['SDK + minimal node:http httpClient', createNodeHttpTwilioClient(creds)],
    ['SDK RequestClient (axios)', axiosClient(creds)],
  ];
  const perRequest = new Map<string, string[]>();
  for (let round = 1; round <= 5; round++) {
    for (const [name, client] of clients) {
      const ws = client.taskrouter.v1.workspaces(seeded.workspaceSid);
      const c0 = process.cpuUsage();
      await Promise.all(sids.map((s) => lim(() => ws.tasks(s).fetch())));
      const cpu = process.cpuUsage(c0);
      perRequest.set(name, [...(perRequest.get(name) ?? []), ((cpu.user + cpu.system) / sids.length / 1000).toFixed(3)]);
    }
  }
  console.log(`client CPU ms per Task fetch, ${sids.length} fetches per round, rounds 1-5:`);
  for (const [name, ms] of perRequest) console.log(`  ${name.padEnd(36)} ${ms.join('  ')}`);
  await emu.stop();
}
main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
