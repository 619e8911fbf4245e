/**
 * Plug-in points for `unstick up`. A command module registers its part of the sandbox stack from its own
 * `register(program)` (so nobody edits up.ts), e.g. in src/cli/emulator.ts:
 *
 *   registerUpHook('emulator', async (ctx) => {
 *     const emu = await startEmulator(...);
 *     ctx.config = { ...ctx.config, twilio: { ...ctx.config.twilio, baseUrl: emu.url } }; // the worker will use it
 *     ctx.announce('Twilio emulator', emu.url);
 *     return () => emu.close();
 *   }, { order: 10 });
 *
 * Hooks start in ascending `order` (then registration order) after the dev server is ready and before the worker
 * starts (the worker gets the final ctx.config); their stop functions run in reverse order on Ctrl-C, after the
 * worker has drained and before the dev server stops.
 */
import type { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';
import type { Logger } from '../log';
import type { DevServer } from '../temporal/devServer';

export interface UpContext {
  /** The stack's config: temporal.* already points at the local dev server. Hooks may replace it. */
  config: Config;
  devServer: DevServer;
  client: Client;
  connection: Connection;
  log: Logger;
  /** Adds a line to the banner printed once everything is up, e.g. ('Webhook', 'http://127.0.0.1:8080'). */
  announce(label: string, value: string): void;
}

export type UpHookStop = () => Promise<void>;
export type UpHook = (ctx: UpContext) => Promise<UpHookStop | void>;

interface Registered {
  name: string;
  start: UpHook;
  order: number;
  seq: number;
}

const hooks: Registered[] = [];

export function registerUpHook(name: string, start: UpHook, opts: { order?: number } = {}): void {
  if (hooks.some((h) => h.name === name)) throw new Error(`up hook ${JSON.stringify(name)} is registered twice`);
  hooks.push({ name, start, order: opts.order ?? 100, seq: hooks.length });
}

export function registeredUpHooks(): ReadonlyArray<{ name: string; start: UpHook }> {
  return [...hooks].sort((a, b) => a.order - b.order || a.seq - b.seq);
}
