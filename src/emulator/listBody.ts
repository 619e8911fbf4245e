/**
 * List answers. A page of up to 1,000 records is ~2 MB of JSON; built in one go it holds the emulator's event loop
 * for tens of ms, stalling every other request in flight, which Twilio's own lists do not do. Large pages are
 * therefore streamed: the records' JSON objects are built at once (one point in time, as a database read would
 * be), then stringified a chunk at a time with a turn of the event loop between chunks. The bytes are the same
 * JSON as `JSON.stringify` of the whole envelope.
 */
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';

const CHUNK = 100;

/**
 * Answers `envelope` with `envelope[key]` = `records.map(toJson)`. `envelope` holds the paging fields in wire order;
 * its own `key` entry (a placeholder) marks where the list goes.
 */
export function sendList<T>(reply: FastifyReply, envelope: Record<string, unknown>, key: string, records: readonly T[], toJson: (r: T) => unknown): unknown {
  const fields = Object.entries(envelope);
  const items = records.map(toJson);
  if (items.length <= CHUNK) return Object.fromEntries(fields.map(([k, v]) => [k, k === key ? items : v]));
  async function* body(): AsyncGenerator<string> {
    let first = true;
    for (const [k, v] of fields) {
      const prefix = `${first ? '{' : ','}${JSON.stringify(k)}:`;
      first = false;
      if (k !== key) {
        yield prefix + JSON.stringify(v);
        continue;
      }
      for (let i = 0; i < items.length; i += CHUNK) {
        const chunk = JSON.stringify(items.slice(i, i + CHUNK));
        // The chunk's own brackets go: the list is one array across chunks.
        yield (i === 0 ? `${prefix}[` : ',') + chunk.slice(1, -1);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      yield ']';
    }
    yield '}';
  }
  return reply.type('application/json; charset=utf-8').send(Readable.from(body(), { objectMode: false }));
}
