/**
 * After-response hooks: a test's synchronous action that runs right after the emulator has answered a matching
 * request, so that "someone else changed it between your read and your write" happens exactly where a test wants.
 * The action runs in fastify's `onSend` stage: the response (status, headers such as the Task's ETag, body) is
 * final, but not one byte of it has been written to the socket yet. So the client sees the answer from before the
 * action, and every request it sends after reading that answer is handled after the action.
 */
import { endpointMatches } from './faults';

export interface ResponseMatch {
  /** HTTP method (default any). */
  method?: string;
  /** `product:Resource` as the fault rules use (`taskrouter:Tasks`, `api:Calls`, `studio:Executions`, `studio:*`, `*`); default any. */
  endpoint?: string;
  /** A substring of the request path, query excluded (e.g. a Task SID). */
  pathIncludes?: string;
  /** Only responses with this status code (default any, fault answers such as 429 included). */
  status?: number;
  /** How many matching responses fire the action (default 1); then the hook stays listed but inert. */
  times?: number;
}

export interface AnsweredRequest {
  method: string;
  endpoint: string;
  /** The request path as received, query excluded (e.g. `/taskrouter/v1/Workspaces/WS…/Tasks/WT…`). */
  path: string;
  status: number;
}

interface Hook {
  id: number;
  match: ResponseMatch;
  action: (r: AnsweredRequest) => void;
  remaining: number;
  fires: number;
  errors: unknown[];
  removed: boolean;
}

export class ResponseHooks {
  private hooks: Hook[] = [];
  private nextId = 1;

  add(match: ResponseMatch, action: (r: AnsweredRequest) => void): number {
    const times = match.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new Error(`afterResponse: times must be a positive integer, not ${String(match.times)}`);
    const id = this.nextId++;
    this.hooks.push({ id, match: { ...match }, action, remaining: times, fires: 0, errors: [], removed: false });
    return id;
  }
  /** Stops a hook; its fire count stays readable. Returns false for an unknown id. */
  remove(id: number): boolean {
    const h = this.find(id);
    if (!h) return false;
    h.removed = true;
    return true;
  }
  fires(id: number): number {
    const h = this.find(id);
    if (!h) throw new Error(`no afterResponse hook ${id}`);
    return h.fires;
  }
  /** What the hook's action threw (it is caught: the response is still sent unchanged). */
  errors(id: number): unknown[] {
    return [...(this.find(id)?.errors ?? [])];
  }
  clear(): void {
    this.hooks = [];
  }

  /** Runs, in registration order, every live hook matching this answered request. Admin requests never match. */
  answered(r: AnsweredRequest): void {
    if (this.hooks.length === 0 || r.endpoint.startsWith('admin:')) return;
    for (const h of this.hooks) {
      if (h.removed || h.remaining <= 0 || !matches(h.match, r)) continue;
      h.remaining--;
      h.fires++;
      try {
        const out: unknown = h.action(r);
        if (out && typeof (out as { then?: unknown }).then === 'function') h.errors.push(new Error('afterResponse actions must be synchronous: this one returned a promise'));
      } catch (err) {
        h.errors.push(err);
      }
    }
  }

  private find(id: number): Hook | undefined {
    return this.hooks.find((h) => h.id === id);
  }
}

function matches(m: ResponseMatch, r: AnsweredRequest): boolean {
  if (m.method && m.method !== '*' && m.method.toUpperCase() !== r.method) return false;
  if (m.endpoint && !endpointMatches(m.endpoint, r.endpoint)) return false;
  if (m.pathIncludes && !r.path.includes(m.pathIncludes)) return false;
  if (m.status !== undefined && m.status !== r.status) return false;
  return true;
}
