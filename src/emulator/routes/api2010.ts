/** API v2010 (api.twilio.com): Calls and IncomingPhoneNumbers. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Core } from '../core';
import { badRequest, clampPageSize, notFound, one, pageRecords, parseDateParam, v2010Envelope } from '../format';
import { sendList } from '../listBody';
import { callJson, numberJson } from '../serialize';
import type { Call, CallStatus, PhoneNumber } from '../state';
import { isTerminalCallStatus } from '../../shared/constants';

type Q = Record<string, unknown>;
const CALL_STATUSES: CallStatus[] = ['queued', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled'];

function accountOf(core: Core, req: FastifyRequest): string {
  const { AccountSid } = req.params as { AccountSid: string };
  if (AccountSid !== req.twilioAccount) throw notFound(`The requested resource /2010-04-01/Accounts/${AccountSid} was not found`);
  return AccountSid;
}

function sidParam(req: FastifyRequest, prefix: string): string {
  const raw = (req.params as { Sid: string }).Sid;
  if (!raw.endsWith('.json')) throw notFound(`The requested resource ${req.url} was not found`);
  const sid = raw.slice(0, -5);
  if (!sid.startsWith(prefix)) throw notFound(`The requested resource ${req.url.split('?')[0]} was not found`);
  return sid;
}

function pageIndex(q: Q): number {
  const n = Number(one(q.Page) ?? 0);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

function dayOrTime(raw: string): { from: number; to: number } | undefined {
  const t = parseDateParam(raw);
  if (t === undefined) return undefined;
  return /^\d{4}-\d{2}-\d{2}$/.test(raw) ? { from: t, to: t + 86_400_000 } : { from: t, to: t + 1000 };
}

export function registerApiRoutes(app: FastifyInstance, core: Core): void {
  const base = '/api/2010-04-01/Accounts/:AccountSid';
  const { store } = core;

  app.get(`${base}/Calls.json`, { config: { endpoint: 'api:Calls' } }, async (req, reply) => {
    const account = accountOf(core, req);
    const q = req.query as Q;
    const status = one(q.Status);
    if (status !== undefined && !CALL_STATUSES.includes(status as CallStatus)) throw badRequest(`Invalid Status ${status}`);
    const to = one(q.To);
    const from = one(q.From);
    const parent = one(q.ParentCallSid);
    const timeFilters: ((c: Call) => boolean)[] = [];
    for (const field of ['StartTime', 'EndTime'] as const) {
      const get = (c: Call) => (field === 'StartTime' ? c.startTime : c.endTime);
      const eq = one(q[field]);
      const before = one(q[`${field}<`]);
      const after = one(q[`${field}>`]);
      if (eq) {
        const r = dayOrTime(eq);
        if (!r) throw badRequest(`Invalid ${field} ${eq}`);
        timeFilters.push((c) => { const v = get(c); return v !== null && v >= r.from && v < r.to; });
      }
      if (before) {
        const r = dayOrTime(before);
        if (!r) throw badRequest(`Invalid ${field}< ${before}`);
        timeFilters.push((c) => { const v = get(c); return v !== null && v < r.to; });
      }
      if (after) {
        const r = dayOrTime(after);
        if (!r) throw badRequest(`Invalid ${field}> ${after}`);
        timeFilters.push((c) => { const v = get(c); return v !== null && v >= r.from; });
      }
    }
    const source = status ? store.callsByStatus.get(status as CallStatus) ?? new Set<Call>() : store.calls.values();
    const items: Call[] = [];
    for (const c of source) {
      if (c.accountSid !== account) continue;
      if (to && c.to !== to) continue;
      if (from && c.from !== from) continue;
      if (parent) continue; // inbound calls in the emulator have no parent
      if (!timeFilters.every((f) => f(c))) continue;
      items.push(c);
    }
    const pageSize = clampPageSize(q.PageSize);
    const { page, next } = pageRecords(items, [{ key: (c) => c.dateCreated, dir: 'desc' }], pageSize, one(q.PageToken));
    const filters: Record<string, string | undefined> = { To: to, From: from, ParentCallSid: parent, Status: status };
    for (const k of ['StartTime', 'StartTime<', 'StartTime>', 'EndTime', 'EndTime<', 'EndTime>']) filters[k] = one(q[k]);
    return sendList(reply, v2010Envelope('calls', page, `/2010-04-01/Accounts/${account}/Calls.json`, filters, pageSize, pageIndex(q), next), 'calls', page, callJson);
  });

  app.get(`${base}/Calls/:Sid`, { config: { endpoint: 'api:Calls' } }, async (req) => {
    const account = accountOf(core, req);
    return callJson(store.getCall(account, sidParam(req, 'CA')));
  });

  app.post(`${base}/Calls/:Sid`, { config: { endpoint: 'api:Calls' } }, async (req) => {
    const account = accountOf(core, req);
    const call = store.getCall(account, sidParam(req, 'CA'));
    const b = (req.body ?? {}) as Q;
    const status = one(b.Status);
    if (one(b.Url) && one(b.Twiml)) throw badRequest('Url and Twiml are mutually exclusive');
    if (status !== undefined) {
      if (status !== 'canceled' && status !== 'completed') throw badRequest(`Invalid Status ${status}: must be canceled or completed`);
      const terminal = isTerminalCallStatus(call.status);
      // canceled only hangs up queued/ringing calls; completed hangs up anything live. Ended calls are left as they are.
      if (!terminal && (status === 'completed' || call.status === 'queued' || call.status === 'ringing')) {
        store.setCallStatus(call, call.status === 'in-progress' ? 'completed' : 'canceled');
        core.sim.hangup(call.sid);
      }
    }
    return callJson(call);
  });

  app.get(`${base}/IncomingPhoneNumbers.json`, { config: { endpoint: 'api:IncomingPhoneNumbers' } }, async (req) => {
    const account = accountOf(core, req);
    const q = req.query as Q;
    const phone = one(q.PhoneNumber);
    const friendly = one(q.FriendlyName);
    const origin = one(q.Origin);
    const re = phone ? new RegExp(phone.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')) : undefined;
    const items = [...store.numbers.values()].filter(
      (n) => n.accountSid === account && (!re || re.test(n.phoneNumber)) && (!friendly || n.friendlyName === friendly) && (!origin || origin === 'twilio'),
    );
    const pageSize = clampPageSize(q.PageSize);
    const { page, next } = pageRecords(items, [{ key: (n) => n.dateCreated, dir: 'asc' }], pageSize, one(q.PageToken));
    return v2010Envelope('incoming_phone_numbers', page.map(numberJson), `/2010-04-01/Accounts/${account}/IncomingPhoneNumbers.json`, { PhoneNumber: phone, FriendlyName: friendly, Origin: origin, Beta: one(q.Beta) }, pageSize, pageIndex(q), next);
  });

  const getNumber = (req: FastifyRequest): PhoneNumber => {
    const account = accountOf(core, req);
    const sid = sidParam(req, 'PN');
    const n = store.numbers.get(sid);
    if (!n || n.accountSid !== account) throw notFound(`The requested resource /2010-04-01/Accounts/${account}/IncomingPhoneNumbers/${sid}.json was not found`);
    return n;
  };

  app.get(`${base}/IncomingPhoneNumbers/:Sid`, { config: { endpoint: 'api:IncomingPhoneNumbers' } }, async (req) => numberJson(getNumber(req)));

  app.post(`${base}/IncomingPhoneNumbers/:Sid`, { config: { endpoint: 'api:IncomingPhoneNumbers' } }, async (req) => {
    const n = getNumber(req);
    updateNumber(n, (req.body ?? {}) as Q, core.clock.now());
    return numberJson(n);
  });
}

const METHODS = ['GET', 'POST'] as const;
function method(v: string | undefined, name: string): 'GET' | 'POST' | undefined {
  if (v === undefined) return undefined;
  const m = v.toUpperCase();
  if (!(METHODS as readonly string[]).includes(m)) throw badRequest(`${name} must be GET or POST`);
  return m as 'GET' | 'POST';
}
function url(v: string | undefined, name: string): string | null | undefined {
  if (v === undefined) return undefined;
  if (v === '') return null;
  try {
    const u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw badRequest(`${name} ${v} is not a valid URL`);
  }
  return v;
}

/** Applies IncomingPhoneNumber update parameters (also used by the admin API). */
export function updateNumber(n: PhoneNumber, b: Record<string, unknown>, now: number): void {
  const set = <K extends keyof PhoneNumber>(k: K, v: PhoneNumber[K] | undefined) => {
    if (v !== undefined) n[k] = v;
  };
  set('statusCallback', url(one(b.StatusCallback), 'StatusCallback'));
  set('statusCallbackMethod', method(one(b.StatusCallbackMethod), 'StatusCallbackMethod'));
  set('voiceUrl', url(one(b.VoiceUrl), 'VoiceUrl'));
  set('voiceMethod', method(one(b.VoiceMethod), 'VoiceMethod'));
  set('voiceFallbackUrl', url(one(b.VoiceFallbackUrl), 'VoiceFallbackUrl'));
  set('voiceFallbackMethod', method(one(b.VoiceFallbackMethod), 'VoiceFallbackMethod'));
  set('smsUrl', url(one(b.SmsUrl), 'SmsUrl'));
  set('smsMethod', method(one(b.SmsMethod), 'SmsMethod'));
  const fn = one(b.FriendlyName);
  if (fn !== undefined) n.friendlyName = fn;
  n.dateUpdated = now;
}
