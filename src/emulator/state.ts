/**
 * The emulator's in-memory Twilio account: the records (records.ts) plus the indexes the REST handlers need
 * (by status, by CallSid, by contact) so that no request is quadratic in the number of records, and the moves that
 * keep those indexes right.
 */
import { isTerminalCallStatus, type CallStatus } from '../shared/constants';
import type { EmulatedClock } from './clock';
import type { SidFactory } from './ids';
import { notFound } from './format';
import type { Call, Execution, ExecutionStatus, Flow, PhoneNumber, Step, Task, TaskChannel, TaskEventListener, TaskStatus, TrEvent, Workspace } from './records';

export * from './records';

function bump<K, V>(m: Map<K, Set<V>>, k: K): Set<V> {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  return s;
}

export class Store {
  private seqCounter = 0;
  readonly calls = new Map<string, Call>();
  readonly callsByStatus = new Map<CallStatus, Set<Call>>();
  readonly numbers = new Map<string, PhoneNumber>();
  readonly flows = new Map<string, Flow>();
  readonly executions = new Map<string, Execution>();
  readonly executionsByFlow = new Map<string, Map<ExecutionStatus, Set<Execution>>>();
  readonly executionByCall = new Map<string, Execution>();
  /** flowSid → contact address → active executions (for the concurrent-calls rule). */
  readonly activeByContact = new Map<string, Map<string, Set<Execution>>>();
  readonly workspaces = new Map<string, Workspace>();
  readonly channels = new Map<string, TaskChannel[]>();
  readonly tasks = new Map<string, Task>();
  readonly tasksByStatus = new Map<string, Map<TaskStatus, Set<Task>>>();
  readonly tasksByCall = new Map<string, Set<Task>>();
  readonly events = new Map<string, TrEvent[]>();
  /** Closed tasks in closing order, purged `closedTaskTtlMs` after they closed. */
  private closedQueue: Task[] = [];
  readonly blockedCalls: { callSid: string; flowSid: string; from: string; blockedByExecutionSid: string; at: number }[] = [];
  taskListeners: TaskEventListener[] = [];
  /** Told when an Execution starts (added active) or ends: the Event Streams emitter's Studio events. */
  executionListeners: ((ex: Execution, event: 'started' | 'ended') => void)[] = [];

  /** Forgets every record (admin reset); listeners and the sequence counter survive. */
  clear(): void {
    for (const m of [this.calls, this.callsByStatus, this.numbers, this.flows, this.executions, this.executionsByFlow, this.executionByCall,
      this.activeByContact, this.workspaces, this.channels, this.tasks, this.tasksByStatus, this.tasksByCall, this.events] as Map<unknown, unknown>[]) m.clear();
    this.closedQueue = [];
    this.blockedCalls.length = 0;
  }
  /** How long a canceled/completed task stays readable (Twilio: about 5 minutes). */
  closedTaskTtlMs = 5 * 60 * 1000;

  constructor(
    readonly clock: EmulatedClock,
    readonly sids: SidFactory,
  ) {}

  nextSeq(): number {
    return ++this.seqCounter;
  }

  // ---- calls ----
  addCall(c: Omit<Call, 'seq' | 'callbackSeq'>): Call {
    // Every field in one order, optional ones included (see addTask): one hidden class for all Calls.
    const call: Call = {
      seq: this.nextSeq(),
      sid: c.sid,
      accountSid: c.accountSid,
      from: c.from,
      to: c.to,
      phoneNumberSid: c.phoneNumberSid,
      status: c.status,
      direction: c.direction,
      dateCreated: c.dateCreated,
      dateUpdated: c.dateUpdated,
      startTime: c.startTime,
      endTime: c.endTime,
      answeredAt: c.answeredAt,
      duration: c.duration,
      scenario: c.scenario,
      executionSid: c.executionSid,
      flowSid: c.flowSid,
      taskSid: c.taskSid,
      blockedByExecutionSid: c.blockedByExecutionSid,
      callbackSeq: 0,
    };
    this.calls.set(call.sid, call);
    bump(this.callsByStatus, call.status).add(call);
    return call;
  }
  setCallStatus(call: Call, status: CallStatus, at = this.clock.now()): void {
    if (call.status === status) return;
    this.callsByStatus.get(call.status)?.delete(call);
    call.status = status;
    bump(this.callsByStatus, status).add(call);
    call.dateUpdated = at;
    if (status === 'in-progress') call.answeredAt = at;
    if (isTerminalCallStatus(status)) {
      call.endTime = at;
      call.duration = call.answeredAt !== null ? Math.max(0, Math.round((at - call.answeredAt) / 1000)) : 0;
    }
  }
  getCall(accountSid: string, sid: string): Call {
    const c = this.calls.get(sid);
    if (!c || c.accountSid !== accountSid) throw notFound(`The requested resource /2010-04-01/Accounts/${accountSid}/Calls/${sid}.json was not found`);
    return c;
  }

  // ---- executions ----
  private execIndex(flowSid: string, status: ExecutionStatus): Set<Execution> {
    let byStatus = this.executionsByFlow.get(flowSid);
    if (!byStatus) this.executionsByFlow.set(flowSid, (byStatus = new Map()));
    return bump(byStatus, status);
  }
  addExecution(e: Omit<Execution, 'seq' | 'steps'>): Execution {
    // Every field in one order, optional ones included (see addTask): one hidden class for all Executions.
    const ex: Execution = {
      seq: this.nextSeq(),
      sid: e.sid,
      accountSid: e.accountSid,
      flowSid: e.flowSid,
      contactAddress: e.contactAddress,
      contactSid: e.contactSid,
      flowVersion: e.flowVersion,
      status: e.status,
      dateCreated: e.dateCreated,
      dateUpdated: e.dateUpdated,
      initiatedBy: e.initiatedBy,
      context: e.context,
      steps: [],
      kind: e.kind,
      callSid: e.callSid,
      deaf: e.deaf,
    };
    this.executions.set(ex.sid, ex);
    this.execIndex(ex.flowSid, ex.status).add(ex);
    if (ex.callSid) this.executionByCall.set(ex.callSid, ex);
    if (ex.status === 'active') {
      for (const l of this.executionListeners) l(ex, 'started');
      let byContact = this.activeByContact.get(ex.flowSid);
      if (!byContact) this.activeByContact.set(ex.flowSid, (byContact = new Map()));
      bump(byContact, ex.contactAddress).add(ex);
    }
    return ex;
  }
  addStep(ex: Execution, s: Omit<Step, 'seq' | 'sid' | 'executionSid' | 'flowSid' | 'dateCreated' | 'dateUpdated'>, at = this.clock.now()): Step {
    const step: Step = { ...s, seq: this.nextSeq(), sid: this.sids.make('FT'), executionSid: ex.sid, flowSid: ex.flowSid, dateCreated: at, dateUpdated: at };
    ex.steps.push(step);
    ex.dateUpdated = at;
    return step;
  }
  endExecution(ex: Execution, at = this.clock.now()): void {
    if (ex.status === 'ended') return;
    this.execIndex(ex.flowSid, 'active').delete(ex);
    this.activeByContact.get(ex.flowSid)?.get(ex.contactAddress)?.delete(ex);
    ex.status = 'ended';
    ex.dateUpdated = at;
    this.execIndex(ex.flowSid, 'ended').add(ex);
    for (const l of this.executionListeners) l(ex, 'ended');
  }
  deleteExecution(ex: Execution): void {
    this.endExecution(ex);
    this.execIndex(ex.flowSid, 'ended').delete(ex);
    this.executions.delete(ex.sid);
    if (ex.callSid && this.executionByCall.get(ex.callSid) === ex) this.executionByCall.delete(ex.callSid);
  }
  getExecution(flowSid: string, sid: string): Execution {
    const ex = this.executions.get(sid);
    if (!ex || ex.flowSid !== flowSid) throw notFound(`The requested resource /Flows/${flowSid}/Executions/${sid} was not found`);
    return ex;
  }
  activeExecutionsForContact(flowSid: string, address: string): Execution[] {
    return [...(this.activeByContact.get(flowSid)?.get(address) ?? [])];
  }

  // ---- tasks ----
  private taskIndex(ws: string, status: TaskStatus): Set<Task> {
    let byStatus = this.tasksByStatus.get(ws);
    if (!byStatus) this.tasksByStatus.set(ws, (byStatus = new Map()));
    return bump(byStatus, status);
  }
  addTask(t: Omit<Task, 'seq' | 'version' | 'callSid' | 'closedAt'> & { closedAt?: number | null }): Task {
    // One literal, every field in one order: all Tasks share one hidden class, so the list routes' loops over
    // thousands of them stay monomorphic (a spread of varied inputs made them ~15x slower to scan).
    const task: Task = {
      seq: this.nextSeq(),
      sid: t.sid,
      accountSid: t.accountSid,
      workspaceSid: t.workspaceSid,
      status: t.status,
      attributes: t.attributes,
      priority: t.priority,
      reason: t.reason,
      timeout: t.timeout,
      channelSid: t.channelSid,
      channelUniqueName: t.channelUniqueName,
      queueSid: t.queueSid,
      queueName: t.queueName,
      workflowSid: t.workflowSid,
      workflowName: t.workflowName,
      dateCreated: t.dateCreated,
      dateUpdated: t.dateUpdated,
      queueEnteredAt: t.queueEnteredAt,
      virtualStartTime: t.virtualStartTime,
      closedAt: t.closedAt ?? null,
      version: 0,
      callSid: null,
      reservationSid: t.reservationSid,
      workerSid: t.workerSid,
    };
    this.tasks.set(task.sid, task);
    this.taskIndex(task.workspaceSid, task.status).add(task);
    this.indexCallSid(task);
    if (task.status === 'canceled' || task.status === 'completed') {
      task.closedAt ??= task.dateUpdated;
      this.closedQueue.push(task);
    }
    return task;
  }
  /** Parsed on demand (not cached: 10,000s of parsed copies cost more in GC than re-parsing a filtered few). */
  parsedAttributes(t: Task): { ok: boolean; value: unknown } {
    try {
      return { ok: true, value: JSON.parse(t.attributes) };
    } catch {
      return { ok: false, value: undefined };
    }
  }
  private indexCallSid(t: Task): void {
    if (t.callSid) this.tasksByCall.get(t.callSid)?.delete(t);
    const p = this.parsedAttributes(t);
    const cs = p.ok && p.value && typeof p.value === 'object' ? (p.value as Record<string, unknown>).call_sid : undefined;
    t.callSid = typeof cs === 'string' ? cs : null;
    if (t.callSid) bump(this.tasksByCall, t.callSid).add(t);
  }
  setTaskAttributes(t: Task, attributes: string, at = this.clock.now()): void {
    t.attributes = attributes;
    this.indexCallSid(t);
    t.dateUpdated = at;
    t.version++;
  }
  /** Moves a task to a status without validation (the simulator and TaskRouter itself use this). */
  setTaskStatus(t: Task, status: TaskStatus, reason: string | null = t.reason, at = this.clock.now()): void {
    if (t.status !== status) {
      this.taskIndex(t.workspaceSid, t.status).delete(t);
      t.status = status;
      this.taskIndex(t.workspaceSid, status).add(t);
    }
    t.reason = reason;
    t.dateUpdated = at;
    t.version++;
    if (status === 'canceled' || status === 'completed') {
      t.closedAt = at;
      this.closedQueue.push(t);
    }
  }
  deleteTask(t: Task): void {
    this.taskIndex(t.workspaceSid, t.status).delete(t);
    if (t.callSid) this.tasksByCall.get(t.callSid)?.delete(t);
    this.tasks.delete(t.sid);
  }
  /** True when a closed task has outlived its TTL (it is then removed and `task.system-deleted` fires). */
  isPurged(t: Task): boolean {
    if (t.closedAt === null || this.clock.now() - t.closedAt < this.closedTaskTtlMs) return false;
    if (this.tasks.get(t.sid) === t) {
      this.deleteTask(t);
      this.emitTaskEvent('task.system-deleted', t, 'Task deleted by the system after it closed', {});
    }
    return true;
  }
  /** Drops closed tasks past their TTL; called on a timer and before task lists. */
  purgeClosedTasks(): void {
    if (this.closedQueue.length === 0) return;
    const keep: Task[] = [];
    for (const t of this.closedQueue) {
      if (this.tasks.get(t.sid) !== t || (t.status !== 'canceled' && t.status !== 'completed')) continue;
      if (!this.isPurged(t)) keep.push(t);
    }
    this.closedQueue = keep;
  }
  getTask(ws: string, sid: string): Task {
    const t = this.tasks.get(sid);
    if (!t || t.workspaceSid !== ws || this.isPurged(t)) throw notFound(`The requested resource /Workspaces/${ws}/Tasks/${sid} was not found`);
    return t;
  }
  tasksIn(ws: string, status: TaskStatus): Set<Task> {
    return this.taskIndex(ws, status);
  }

  // ---- TaskRouter events ----
  emitTaskEvent(eventType: string, t: Task, description: string, extra: Record<string, string>, resourceType = 'Task', resourceSid = t.sid): TrEvent {
    const ev: TrEvent = {
      seq: this.nextSeq(),
      sid: this.sids.make('EV'),
      accountSid: t.accountSid,
      workspaceSid: t.workspaceSid,
      eventType,
      description,
      date: this.clock.now(),
      resourceType,
      resourceSid,
      actorType: extra.WorkerSid ? 'worker' : 'account',
      actorSid: extra.WorkerSid ?? t.accountSid,
      data: {
        task_sid: t.sid,
        task_attributes: t.attributes,
        task_age: Math.max(0, Math.floor((this.clock.now() - t.dateCreated) / 1000)),
        task_priority: t.priority,
        task_assignment_status: t.status,
        task_channel_sid: t.channelSid,
        task_channel_unique_name: t.channelUniqueName,
        task_queue_sid: t.queueSid,
        task_queue_name: t.queueName,
        workflow_sid: t.workflowSid,
        workflow_name: t.workflowName,
        task_date_created: Math.floor(t.dateCreated / 1000),
        ...(eventType === 'task.canceled' ? { task_canceled_reason: t.reason } : {}),
        ...(eventType === 'task.completed' ? { task_completed_reason: t.reason } : {}),
        ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase(), v])),
      },
    };
    let list = this.events.get(t.workspaceSid);
    if (!list) this.events.set(t.workspaceSid, (list = []));
    list.push(ev);
    for (const l of this.taskListeners) l(ev, t, extra);
    return ev;
  }
}
