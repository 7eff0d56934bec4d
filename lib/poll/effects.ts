// The one port every side effect of a poll goes through: raise alerts, record what was seen, write
// the state, enqueue messages, deliver. Two implementations: the live one (DynamoDB stores and the
// outbox) and the recording one (a dry run): the poll takes the same decisions either way, and a
// dry run's "would send" is exactly what a live run would have recorded for sending.
import type { Message, Task } from '../model';
import { emptyDeliverySummary } from '../outbox';
import type { DeliverySummary, Outbox } from '../outbox/types';
import type {
  DayAdd,
  Digest,
  LifecycleStore,
  ListName,
  ListSketch,
  Markers,
  ScopeState,
  ScopeStore,
  SlowTask,
  OpenAlert,
  Silence,
} from '../state/records';

/** One scope's day: what to add to its counters, and its slowest tasks. */
export interface DayRecord {
  scopeId: string;
  day: string;
  add: DayAdd;
  slow: SlowTask[];
}

/** What the lifecycle changes after its messages were enqueued. */
export interface LifecycleEdits {
  /** Open alerts resolved (deleted). */
  closed: OpenAlert[];
  /** Open alerts rewritten: next reminder, released or moved to another silence. */
  rewritten: OpenAlert[];
  /** Alerts a still-active silence takes over from one that ended (silence id -> alert). */
  transferred: Array<{ silenceId: string; alert: OpenAlert['alert'] }>;
  /** Silences whose end was handled. */
  over: Silence[];
}

export interface Effects {
  /**
   * Raises alerts just decided: loud ones are recorded in the outbox, silenced ones with their
   * silence, and every one is opened (resolution, reminders). Safe to repeat. Returns the ids newly
   * recorded.
   */
  raise(opened: readonly OpenAlert[], now: number): Promise<string[]>;
  /** Records task details (follow-ups and resolution read them later). */
  recordTasks(
    projectId: string,
    tasks: ReadonlyArray<{ key: string; task: Task }>,
    now: number,
  ): Promise<void>;
  /** Keeps the keys (and row hashes) a cycle spanning polls has seen this poll. */
  addSeen(
    scopeId: string,
    list: ListName,
    cycleStart: number,
    chunk: string,
    rows: ReadonlyMap<string, string>,
    now: number,
  ): Promise<void>;
  /** Keeps a list's last complete cycle as a sketch (its later pages are checked against it). */
  writeSketch(scopeId: string, list: ListName, sketch: ListSketch, now: number): Promise<void>;
  /** Records messages for sending (resolved, reminders, released alerts, notices, summaries); returns the ids newly recorded. */
  enqueue(messages: readonly Message[]): Promise<string[]>;
  /** Applies the lifecycle's edits (after its messages were enqueued). */
  applyLifecycle(edits: LifecycleEdits, now: number): Promise<void>;
  /** Writes a scope's digest (its dirty shards). */
  writeDigest(digest: Digest, now: number): Promise<void>;
  /** Writes a scope's state (after its digest). */
  writeState(state: ScopeState, before: ScopeState, now: number): Promise<void>;
  /** Adds to the day's counters (alerts by id: repeating it counts nothing twice). */
  countDay(days: readonly DayRecord[], now: number): Promise<void>;
  writeMarkers(next: Markers, before: Markers, now: number): Promise<void>;
  deliver(until: number, context: { listsIncomplete: boolean }): Promise<DeliverySummary>;
  /** What this run would send: the recording port's list; undefined for the live port. */
  readonly wouldSend?: Message[];
}

export interface EffectsDeps {
  store: ScopeStore;
  lifecycle: LifecycleStore;
  outbox: Outbox;
}

/** The live port: DynamoDB stores and the outbox. */
export function liveEffects({ store, lifecycle, outbox }: EffectsDeps): Effects {
  return {
    async raise(opened, now) {
      const loud = opened.filter((o) => !o.silencedBy).map((o) => o.alert);
      const created = new Set(loud.length > 0 ? (await outbox.enqueue(loud)).created : []);
      for (const o of opened) {
        if (o.silencedBy && (await lifecycle.swallow(o.silencedBy, o.alert, now))) created.add(o.alert.id);
      }
      // After the outbox and the silence: a crash before this repeats the raise, which opens it then.
      if (opened.length > 0) await lifecycle.openRaised(opened, now);
      return [...created];
    },
    async recordTasks(projectId, tasks, now) {
      if (tasks.length > 0) await store.putTasks(projectId, tasks, now);
    },
    async addSeen(scopeId, list, cycleStart, chunk, rows, now) {
      await store.addSeen(scopeId, list, cycleStart, chunk, rows, now);
    },
    async writeSketch(scopeId, list, sketch, now) {
      await store.writeSketch(scopeId, list, sketch, now);
    },
    async enqueue(messages) {
      return messages.length > 0 ? (await outbox.enqueue(messages)).created : [];
    },
    async applyLifecycle(edits, now) {
      for (const { silenceId, alert } of edits.transferred) await lifecycle.swallow(silenceId, alert, now);
      if (edits.rewritten.length > 0) await lifecycle.putOpen(edits.rewritten, now);
      if (edits.closed.length > 0) await lifecycle.deleteOpen(edits.closed);
      for (const silence of edits.over) await lifecycle.putSilence(silence, now);
    },
    async writeDigest(digest, now) {
      await store.writeDigest(digest, now);
    },
    async writeState(state, before, now) {
      await store.writeState(state, before, now);
    },
    async countDay(days, now) {
      for (const d of days) await lifecycle.addDay(d.scopeId, d.day, d.add, d.slow, now);
    },
    async writeMarkers(next, before, now) {
      await store.writeMarkers(next, before, now);
    },
    deliver(until, context) {
      return outbox.deliver(until, context);
    },
  };
}

/**
 * The recording port of a dry run: writes nothing and sends nothing; every message a live run would
 * newly record for sending (loud alerts and enqueued messages not already in the outbox) is listed.
 */
export function recordingEffects({ outbox }: Pick<EffectsDeps, 'outbox'>): Effects {
  const wouldSend: Message[] = [];
  const listed = new Set<string>();
  async function record(messages: readonly Message[]): Promise<string[]> {
    const fresh = messages.filter((m) => !listed.has(m.id));
    if (fresh.length === 0) return [];
    const known = new Set((await outbox.get(fresh.map((m) => m.id))).map((r) => r.message.id));
    const added = fresh.filter((m) => !known.has(m.id));
    for (const m of added) {
      listed.add(m.id);
      wouldSend.push(m);
    }
    return added.map((m) => m.id);
  }
  return {
    wouldSend,
    async raise(opened) {
      const created = await record(opened.filter((o) => !o.silencedBy).map((o) => o.alert));
      return [...created, ...opened.filter((o) => o.silencedBy).map((o) => o.alert.id)];
    },
    recordTasks: async () => undefined,
    addSeen: async () => undefined,
    writeSketch: async () => undefined,
    enqueue: record,
    applyLifecycle: async () => undefined,
    writeDigest: async () => undefined,
    writeState: async () => undefined,
    countDay: async () => undefined,
    writeMarkers: async () => undefined,
    deliver: async () => emptyDeliverySummary(),
  };
}
