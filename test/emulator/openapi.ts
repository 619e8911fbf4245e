/**
 * Validates raw Twilio responses against the shared OpenAPI specs with ajv 8 in strict mode: OpenAPI 3.0
 * `nullable` becomes a JSON-Schema type union, `x-twilio`/`x-*` extension keys are dropped, and every object with
 * declared properties gets `additionalProperties: false` plus every property `required` (Twilio returns every
 * field, null when empty), so an unknown or a missing field fails.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { RawResponseInfo } from '../../src/twilio/client';

const SPEC_DIR = '/work/shared/twilio-oai';
const SPECS = {
  api: { file: 'twilio_api_v2010.trimmed.json', prefix: '/api' },
  studio: { file: 'twilio_studio_v2.trimmed.json', prefix: '/studio' },
  taskrouter: { file: 'twilio_taskrouter_v1.trimmed.json', prefix: '/taskrouter' },
} as const;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- walking arbitrary OpenAPI JSON
type Json = Record<string, any>;
const DROP = new Set(['example', 'examples', 'x-twilio', 'discriminator', 'xml', 'externalDocs', 'deprecated', 'readOnly', 'writeOnly']);

/** OpenAPI 3.0 schema → strict JSON Schema (draft 7 as ajv understands it). */
export function convertSchema(node: unknown, v2010Envelope = false): unknown {
  if (Array.isArray(node)) return node.map((n) => convertSchema(n, v2010Envelope));
  if (!node || typeof node !== 'object') return node;
  const src = node as Json;
  const out: Json = {};
  for (const [k, v] of Object.entries(src)) {
    if (DROP.has(k) || k.startsWith('x-') || k === 'nullable') continue;
    if (k === '$ref' && typeof v === 'string') out.$ref = v.replace('#/components/schemas/', '#/$defs/');
    else if (k === 'properties') out.properties = Object.fromEntries(Object.entries(v as Json).map(([p, s]) => [p, convertSchema(s, false)]));
    else out[k] = convertSchema(v, v2010Envelope);
  }
  if (src.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (out.type === undefined && out.$ref === undefined && out.enum === undefined) {
      // `{ nullable: true }` alone (e.g. `context`, `definition`): any JSON value.
    }
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
    if (out.$ref) return { anyOf: [{ $ref: out.$ref }, { type: 'null' }] };
  }
  if (out.properties && typeof out.properties === 'object') {
    out.type ??= 'object';
    out.additionalProperties = false;
    out.required = Object.keys(out.properties as Json);
  }
  return out;
}

/** v2010 list envelopes carry relative `*_uri` values although the spec says `format: uri`; Twilio's own examples are relative. */
function relaxV2010Envelope(schema: Json): Json {
  for (const [k, v] of Object.entries((schema.properties ?? {}) as Json)) {
    if ((k === 'uri' || k.endsWith('_uri')) && (v as Json).format === 'uri') (v as Json).format = 'uri-reference';
  }
  return schema;
}

interface Operation {
  product: keyof typeof SPECS;
  method: string;
  pathTemplate: string;
  regex: RegExp;
  operationId: string;
  validators: Map<string, ValidateFunction>;
}

export class OpenApiValidator {
  private readonly ajv: Ajv;
  private readonly ops: Operation[] = [];
  /** operationIds that validated at least one response. */
  readonly covered = new Set<string>();

  constructor() {
    this.ajv = new Ajv({ strict: true, allErrors: true, strictTypes: false, allowUnionTypes: true });
    addFormats(this.ajv);
    this.ajv.addFormat('date-time-rfc-2822', /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/);
    this.ajv.addFormat('currency', /^[A-Z]{3}$/);
    this.ajv.addFormat('uri-map', true);
    this.ajv.addFormat('phone-number', /^\+[1-9]\d{1,14}$/);
    this.ajv.addFormat('phone-number-capabilities', true);
    this.ajv.addFormat('http-method', /^(GET|POST|PUT|DELETE|PATCH|HEAD)$/);
    for (const [product, { file }] of Object.entries(SPECS) as [keyof typeof SPECS, { file: string }][]) {
      const spec = JSON.parse(readFileSync(path.join(SPEC_DIR, file), 'utf8')) as Json;
      const defs = convertSchema(spec.components.schemas) as Json;
      for (const [p, item] of Object.entries(spec.paths as Json)) {
        for (const [method, op] of Object.entries(item as Json)) {
          if (!['get', 'post', 'delete'].includes(method)) continue;
          const validators = new Map<string, ValidateFunction>();
          for (const [status, resp] of Object.entries((op as Json).responses as Json)) {
            const schema = (resp as Json).content?.['application/json']?.schema;
            if (!schema) continue;
            let converted = convertSchema(schema) as Json;
            if (product === 'api') converted = relaxV2010Envelope(converted);
            validators.set(status, this.ajv.compile({ ...converted, $defs: defs }));
          }
          const regex = new RegExp(`^${p.replace(/\./g, '\\.').replace(/\{[^}]+\}/g, '[^/]+')}$`);
          this.ops.push({ product, method: method.toUpperCase(), pathTemplate: p, regex, operationId: (op as Json).operationId as string, validators });
        }
      }
    }
  }

  /** Finds the spec operation for a request URL on the emulator. */
  operationFor(method: string, uri: string): Operation | undefined {
    const u = new URL(uri);
    for (const op of this.ops) {
      const prefix = SPECS[op.product].prefix;
      if (!u.pathname.startsWith(`${prefix}/`)) continue;
      const rest = u.pathname.slice(prefix.length);
      if (op.method === method && op.regex.test(rest)) return op;
    }
    return undefined;
  }

  /** Returns a list of problems (empty when the response matches its spec response schema). */
  check(r: RawResponseInfo): string[] {
    const op = this.operationFor(r.method, r.uri);
    if (!op) return [`no spec operation for ${r.method} ${r.uri}`];
    const status = String(r.statusCode);
    if (r.statusCode === 204) {
      this.covered.add(op.operationId);
      return op.validators.size === 0 ? [] : [`${op.operationId}: unexpected 204`];
    }
    const v = op.validators.get(status);
    if (!v && r.statusCode >= 400) return this.checkError(r.body);
    if (!v) return [`${op.operationId}: status ${status} is not a documented response`];
    const body = typeof r.body === 'string' ? (JSON.parse(r.body) as unknown) : r.body;
    if (!v(body)) return (v.errors ?? []).map((e) => `${op.operationId} ${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
    this.covered.add(op.operationId);
    return [];
  }

  /** Error bodies are not in the specs; they must have Twilio's error shape. */
  checkError(body: unknown): string[] {
    const b = (typeof body === 'string' ? JSON.parse(body) : body) as Json;
    const problems: string[] = [];
    if (typeof b?.code !== 'number') problems.push('error body without numeric code');
    if (typeof b?.message !== 'string') problems.push('error body without message');
    if (typeof b?.status !== 'number') problems.push('error body without numeric status');
    if (typeof b?.more_info !== 'string' || !b.more_info.startsWith('https://www.twilio.com/docs/errors/')) problems.push('error body without more_info');
    return problems;
  }

  allOperationIds(): string[] {
    return this.ops.map((o) => o.operationId);
  }
}
