/** The emulator's Event Streams Sink: configured over its admin HTTP API, and what it sends verifies as Twilio's does. */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEmulator, type Emulator } from '../../src/emulator';
import { parseEventBatch } from '../../src/webhook/cloudEvents';
import { hasValidBodySignature } from '../../src/webhook/eventStreams';

describe('emulator Event Streams Sink', () => {
  let emu: Emulator;
  const received: { url: string; signature: string | undefined; authorization: string | undefined; body: string }[] = [];
  const sinkServer = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ url: req.url ?? '', signature: req.headers['x-twilio-signature'] as string | undefined, authorization: req.headers.authorization, body });
      res.writeHead(200).end();
    });
  });
  let sinkUrl = '';

  before(async () => {
    emu = await startEmulator({ simulator: { ringMs: 20, talkMs: 60, wrapMs: 30 } });
    await new Promise<void>((r) => sinkServer.listen(0, '127.0.0.1', r));
    sinkUrl = `http://127.0.0.1:${(sinkServer.address() as AddressInfo).port}/twilio/event-streams`;
  });
  after(async () => {
    await emu?.close();
    sinkServer.close();
  });

  it('PUT/GET/DELETE /_emulator/event-streams configure the Sink; a bad destination is a 400', async () => {
    const put = await fetch(`${emu.url}/_emulator/event-streams`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ destination: sinkUrl, duplicate: 0 }) });
    assert.equal(put.status, 200);
    assert.deepEqual(((await put.json()) as { sink: unknown }).sink, { destination: sinkUrl, duplicate: 0 });
    assert.equal(((await (await fetch(`${emu.url}/_emulator/event-streams`)).json()) as { sink: { destination: string } }).sink.destination, sinkUrl);
    const bad = await fetch(`${emu.url}/_emulator/event-streams`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ destination: 'not a url' }) });
    assert.equal(bad.status, 400);
    emu.admin.setEventStreamsSink({ destination: sinkUrl });
  });

  it('a call\'s Studio and TaskRouter events arrive as signed CloudEvents batches that the webhook\'s check accepts', async () => {
    const run = emu.admin.createCall({ scenario: 'normal' });
    await emu.admin.whenSettled(run.id);
    await emu.admin.settleEventStreams();
    assert.ok(received.length > 0);
    const types = new Set<string>();
    for (const r of received) {
      const url = `${new URL(sinkUrl).origin}${r.url}`;
      assert.ok(hasValidBodySignature(emu.authToken, r.signature, url, r.body), 'signature verifies');
      assert.equal(hasValidBodySignature('other-token', r.signature, url, r.body), false);
      const batch = parseEventBatch(r.body, emu.accountSid);
      assert.ok(batch.ok);
      for (const e of JSON.parse(r.body) as { type: string }[]) types.add(e.type);
      for (const d of batch.events) assert.notEqual(d.kind, 'skip', JSON.stringify(d));
    }
    for (const t of ['com.twilio.studio.flow.execution.started', 'com.twilio.studio.flow.execution.ended', 'com.twilio.taskrouter.task.created', 'com.twilio.taskrouter.task.completed']) assert.ok(types.has(t), `${t} in ${[...types].join(', ')}`);
    const execs = received.flatMap((r) => (JSON.parse(r.body) as { type: string; data: { started_by?: string; execution_sid?: string } }[]).filter((e) => e.type.includes('execution')));
    assert.ok(execs.every((e) => e.data.started_by === run.callSid && e.data.execution_sid === run.executionSid));
  });

  it('credentials in the destination URL are sent as a Basic Authorization header, and the signed URL has none', async () => {
    const withAuth = new URL(sinkUrl);
    withAuth.username = 'sink';
    withAuth.password = 'pw';
    emu.admin.setEventStreamsSink({ destination: withAuth.toString() });
    const before = received.length;
    const run = emu.admin.createCall({ scenario: 'normal' });
    await emu.admin.whenSettled(run.id);
    await emu.admin.settleEventStreams();
    const mine = received.slice(before);
    assert.ok(mine.length > 0);
    for (const r of mine) {
      assert.equal(r.authorization, `Basic ${Buffer.from('sink:pw').toString('base64')}`);
      assert.ok(hasValidBodySignature(emu.authToken, r.signature, `${new URL(sinkUrl).origin}${r.url}`, r.body));
    }
  });

  it('drop: 1 delivers nothing and counts the dropped batches', async () => {
    emu.admin.setEventStreamsSink({ destination: sinkUrl, drop: 1 });
    const before = received.length;
    const run = emu.admin.createCall({ scenario: 'normal' });
    await emu.admin.whenSettled(run.id);
    await emu.admin.settleEventStreams();
    assert.equal(received.length, before);
    assert.ok(emu.admin.eventStreams().counters.batchesDropped > 0);
  });
});
