/** TaskRouter's own moves (what the platform and agents do), as opposed to REST updates. */
import type { Store, Task, TaskStatus, Workspace } from './state';

export interface NewTask {
  attributes: string;
  channelUniqueName: string;
  priority?: number;
  timeout?: number;
  status?: TaskStatus;
  createdAt?: number;
  reason?: string | null;
  /** Bulk seeding skips events (nobody was listening in the past). */
  quiet?: boolean;
}

export class TaskRouter {
  constructor(private readonly store: Store) {}

  channel(ws: Workspace, channel: string) {
    const list = this.store.channels.get(ws.sid) ?? [];
    return list.find((c) => c.uniqueName === channel || c.sid === channel);
  }

  create(ws: Workspace, p: NewTask, workflowSid?: string, queueSid?: string): Task {
    const at = p.createdAt ?? this.store.clock.now();
    const ch = this.channel(ws, p.channelUniqueName) ?? this.channel(ws, 'default')!;
    const wf = ws.workflows.find((w) => w.sid === workflowSid) ?? ws.workflows[0] ?? null;
    const q = ws.queues.find((x) => x.sid === queueSid) ?? ws.queues[0] ?? null;
    const status = p.status ?? 'pending';
    const task = this.store.addTask({
      sid: this.store.sids.make('WT'),
      accountSid: ws.accountSid,
      workspaceSid: ws.sid,
      status,
      attributes: p.attributes,
      priority: p.priority ?? 0,
      reason: p.reason ?? null,
      timeout: p.timeout ?? 86400,
      channelSid: ch.sid,
      channelUniqueName: ch.uniqueName,
      queueSid: q?.sid ?? null,
      queueName: q?.friendlyName ?? null,
      workflowSid: wf?.sid ?? null,
      workflowName: wf?.friendlyName ?? null,
      dateCreated: at,
      dateUpdated: at,
      queueEnteredAt: at,
      virtualStartTime: at,
      reservationSid: status === 'pending' ? null : this.store.sids.make('WR'),
      workerSid: status === 'pending' ? null : ws.workers[0]?.sid ?? null,
    });
    if (!p.quiet) {
      this.store.emitTaskEvent('task.created', task, 'Task created', {});
      this.store.emitTaskEvent('task-queue.entered', task, `Task entered TaskQueue ${task.queueName ?? ''}`, {}, 'Task', task.sid);
    }
    return task;
  }

  private workerExtra(ws: Workspace, t: Task): Record<string, string> {
    const w = ws.workers[0];
    return {
      WorkerSid: w?.sid ?? '',
      WorkerName: w?.friendlyName ?? '',
      WorkerAttributes: w?.attributes ?? '{}',
      ReservationSid: t.reservationSid ?? '',
      TaskQueueSid: t.queueSid ?? '',
      WorkflowSid: t.workflowSid ?? '',
    };
  }

  reserve(ws: Workspace, t: Task): void {
    if (t.status !== 'pending') return;
    t.reservationSid = this.store.sids.make('WR');
    t.workerSid = ws.workers[0]?.sid ?? null;
    this.store.setTaskStatus(t, 'reserved');
    this.store.emitTaskEvent('reservation.created', t, 'Reservation created', this.workerExtra(ws, t), 'Reservation', t.reservationSid);
  }

  /** The worker rejected the reservation (or let it time out): the task waits again. */
  reject(ws: Workspace, t: Task): void {
    if (t.status !== 'reserved') return;
    const extra = this.workerExtra(ws, t);
    this.store.setTaskStatus(t, 'pending');
    this.store.emitTaskEvent('reservation.rejected', t, 'Reservation rejected', extra, 'Reservation', t.reservationSid!);
    t.reservationSid = null;
    t.workerSid = null;
  }

  accept(ws: Workspace, t: Task): void {
    if (t.status !== 'reserved') return;
    this.store.setTaskStatus(t, 'assigned');
    this.store.emitTaskEvent('reservation.accepted', t, 'Reservation accepted', this.workerExtra(ws, t), 'Reservation', t.reservationSid!);
  }

  /** The voice channel ended: an assigned voice task goes to wrapping. */
  wrap(ws: Workspace, t: Task): void {
    if (t.status !== 'assigned') return;
    this.store.setTaskStatus(t, 'wrapping');
    this.store.emitTaskEvent('task.wrapup', t, 'Task wrapping up', this.workerExtra(ws, t));
    this.store.emitTaskEvent('reservation.wrapup', t, 'Reservation wrapping up', this.workerExtra(ws, t), 'Reservation', t.reservationSid!);
  }

  /** The agent finished wrap-up. */
  complete(ws: Workspace, t: Task, reason = 'Task completed by agent'): void {
    if (t.status !== 'wrapping' && t.status !== 'assigned') return;
    this.store.setTaskStatus(t, 'completed', reason);
    this.store.emitTaskEvent('task.completed', t, reason, this.workerExtra(ws, t));
    this.store.emitTaskEvent('reservation.completed', t, 'Reservation completed', this.workerExtra(ws, t), 'Reservation', t.reservationSid!);
  }

  /** The caller hung up while the task was still waiting. */
  cancel(t: Task, reason = 'Task canceled: caller hung up'): void {
    if (t.status !== 'pending' && t.status !== 'reserved') return;
    this.store.setTaskStatus(t, 'canceled', reason);
    this.store.emitTaskEvent('task.canceled', t, reason, {});
  }
}
