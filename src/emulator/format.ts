/** Twilio's wire conventions: date formats, error bodies, list envelopes and page tokens. */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');

/** API v2010 dates: RFC 2822 with `+0000`, e.g. `Fri, 18 Oct 2019 17:00:00 +0000`. */
export function rfc2822(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]}, ${p2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
}
export function rfc2822OrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : rfc2822(ms);
}

/** Studio / TaskRouter dates: ISO 8601 UTC, second precision, `Z`. */
export function iso(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : iso(ms);
}

/** Parses the date query values Twilio accepts (ISO 8601 date-times or `YYYY-MM-DD`). */
export function parseDateParam(raw: string): number | undefined {
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(raw) ? `${raw}T00:00:00Z` : raw);
  return Number.isFinite(t) ? t : undefined;
}

export interface TwilioErrorBody {
  code: number;
  message: string;
  more_info: string;
  status: number;
  detail?: string;
}

export function errorBody(status: number, code: number, message: string, detail?: string): TwilioErrorBody {
  const body: TwilioErrorBody = { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
  if (detail !== undefined) body.detail = detail;
  return body;
}

/** An error a route throws to answer with Twilio's error JSON. */
export class TwilioHttpError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: number,
    message: string,
    public readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
  body(): TwilioErrorBody {
    return errorBody(this.status, this.code, this.message);
  }
}

export const notFound = (what = 'The requested resource was not found') => new TwilioHttpError(404, 20404, what);
export const badRequest = (message: string) => new TwilioHttpError(400, 20001, message);

/** Opaque keyset page token: `PA` + base64url(JSON of the last record's sort keys and seq). */
export type PageCursor = number[];
function encodePageToken(c: PageCursor): string {
  return 'PA' + Buffer.from(JSON.stringify(c)).toString('base64url');
}
function decodePageToken(token: string): PageCursor {
  try {
    if (!token.startsWith('PA')) throw new Error('prefix');
    const c: unknown = JSON.parse(Buffer.from(token.slice(2), 'base64url').toString('utf8'));
    if (!Array.isArray(c) || !c.every((x) => typeof x === 'number' && Number.isFinite(x))) throw new Error('shape');
    return c as number[];
  } catch {
    throw badRequest(`Invalid PageToken ${token}`);
  }
}

export interface Sortable {
  seq: number;
}
export interface SortSpec<T> {
  key: (t: T) => number;
  dir: 'asc' | 'desc';
}

/**
 * Keyset paging over records already filtered: sorts by the keys (then seq, same direction as the first key),
 * and starts after the cursor. O(n log n) per page on the filtered set; stable while records change status.
 */
export function pageRecords<T extends Sortable>(items: T[], sort: SortSpec<T>[], pageSize: number, token: string | undefined): { page: T[]; next: PageCursor | null } {
  const specs: SortSpec<T>[] = [...sort, { key: (t) => t.seq, dir: sort[0]?.dir ?? 'asc' }];
  const keys = (t: T) => specs.map((s) => s.key(t));
  const cmp = (a: number[], b: number[]) => {
    for (let i = 0; i < specs.length; i++) {
      const d = (a[i] ?? 0) - (b[i] ?? 0);
      if (d !== 0) return specs[i]!.dir === 'asc' ? d : -d;
    }
    return 0;
  };
  let candidates = items.map((t) => ({ t, k: keys(t) }));
  if (token) {
    const c = decodePageToken(token);
    if (c.length !== specs.length) throw badRequest(`Invalid PageToken ${token}`);
    candidates = candidates.filter((x) => cmp(x.k, c) > 0);
  }
  candidates.sort((a, b) => cmp(a.k, b.k));
  const page = candidates.slice(0, pageSize);
  const last = page[page.length - 1];
  return { page: page.map((x) => x.t), next: candidates.length > pageSize && last ? last.k : null };
}

export function clampPageSize(raw: unknown): number {
  if (raw === undefined || raw === '') return 50;
  const n = Number(Array.isArray(raw) ? raw[0] : raw);
  if (!Number.isInteger(n) || n < 1) throw badRequest(`PageSize must be a positive integer, got ${String(raw)}`);
  // What Twilio does above 1000 is undocumented; we clamp (the SDK sends PageSize=limit for list({limit})).
  return Math.min(n, 1000);
}

/** Builds a query string keeping parameter order and repeating arrays, as Twilio's links do. */
function queryString(params: Record<string, string | string[] | undefined>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(one)}`);
  }
  return parts.join('&');
}

/** Envelope for Studio v2 / TaskRouter v1 lists: `{ <key>: [...], meta: {...} }` with absolute URLs. */
export function metaEnvelope(
  key: string,
  items: unknown[],
  baseUrl: string,
  filters: Record<string, string | string[] | undefined>,
  pageSize: number,
  pageIndex: number,
  next: PageCursor | null,
): Record<string, unknown> {
  const q = (extra: Record<string, string | undefined>) => `${baseUrl}?${queryString({ ...filters, PageSize: String(pageSize), ...extra })}`;
  return {
    [key]: items,
    meta: {
      page: pageIndex,
      page_size: pageSize,
      first_page_url: q({ Page: '0' }),
      previous_page_url: null,
      url: q({ Page: String(pageIndex) }),
      next_page_url: next ? q({ Page: String(pageIndex + 1), PageToken: encodePageToken(next) }) : null,
      key,
    },
  };
}

/** Envelope for API v2010 lists: flat paging fields, relative URIs. */
export function v2010Envelope(
  key: string,
  items: unknown[],
  path: string,
  filters: Record<string, string | string[] | undefined>,
  pageSize: number,
  pageIndex: number,
  next: PageCursor | null,
): Record<string, unknown> {
  const q = (extra: Record<string, string | undefined>) => `${path}?${queryString({ ...filters, PageSize: String(pageSize), ...extra })}`;
  const start = pageIndex * pageSize;
  return {
    [key]: items,
    end: start + Math.max(items.length - 1, 0),
    first_page_uri: q({ Page: '0' }),
    next_page_uri: next ? q({ Page: String(pageIndex + 1), PageToken: encodePageToken(next) }) : null,
    page: pageIndex,
    page_size: pageSize,
    previous_page_uri: null,
    start,
    uri: q({ Page: String(pageIndex) }),
  };
}

/** First value of a query/form parameter (repeated params arrive as arrays). */
export function one(v: unknown): string | undefined {
  if (Array.isArray(v)) return v.length ? String(v[0]) : undefined;
  return v === undefined || v === null ? undefined : String(v);
}
/** All values of a parameter: repeated and/or comma-separated. */
export function many(v: unknown): string[] {
  const raw = Array.isArray(v) ? v.map(String) : v === undefined || v === null ? [] : [String(v)];
  return raw.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
}
