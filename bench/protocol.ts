// How the bench talks to a measured poller: each poller runs in its own `node` process (one process
// per chain, like one warm Lambda container), the HSS emulator, DynamoDB and the sinks stay in the
// parent. Time is virtual and shared: it moves only when the poller sleeps (waiting for a call slot,
// pacing a channel), and every sleep is reported to the parent, which moves its clock (the one the
// emulator's rate limit and the sinks' arrival times read) before it answers.
import { readFileSync, writeFileSync } from 'node:fs';
import type { ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Which poller a child runs: this tree's, or the previous release's. */
export type PollerId = 'ours' | 'release';

/** What a child is started with (argv[2], JSON). */
export interface ChildInit {
  poller: PollerId;
  /** The environment the poller's config is parsed from (as the Lambda's). */
  env: Record<string, string>;
  /** The function timeout, ms: a sleep that would pass it kills the poll (undefined = no timeout). */
  timeoutMs?: number;
  /** Virtual time when the process starts. */
  now: number;
}

/** Parent -> child; `fresh`: build a new app (clients, call budget) first, as a cold container would. */
export type ParentMessage =
  { type: 'poll'; now: number; fresh?: boolean } | { type: 'clock-ack'; id: number } | { type: 'exit' };

/** DynamoDB usage. */
export interface DynamoUse {
  requests: number;
  rcu: number;
  wcu: number;
}

/** What every poller reports about one invocation (counted by the poller's own code or the bench's middleware). */
export interface PollReport {
  /** The poll returned (false: it threw, or the function timeout killed it). */
  ok: boolean;
  /** Why it did not: one line. */
  error?: string;
  /** The function timeout ended it (a sleep would have passed it). */
  killed?: boolean;
  startedAt: number;
  endedAt: number;
  /** HSS calls as the poller counted them. */
  hssCalls: number;
  /** HSS calls of each check the invocation ran (the previous release: one check an invocation). */
  callsPerCheck: number[];
  /** Every DynamoDB request the process sent (bench middleware, capacity from ReturnConsumedCapacity). */
  dynamo: DynamoUse;
  /** The part of `dynamo` that was the HSS call budget's item. */
  budget: DynamoUse;
  /** `dynamo` by `<operation> <what it touched>`. */
  dynamoKinds: Record<string, DynamoUse>;
  /** DynamoDB requests as the poller's own summary counted them (cross-check). */
  dynamoCounted?: number;
  alertsNew: number;
  /** Task state changes the poller recorded. */
  changes: number;
  /** Check lists (the alert lists, or a small scope's one unfiltered list) left mid-way for the next poll. */
  checkListsLeft: number;
  /** Any list left mid-way. */
  listsLeft: number;
  /** Deliveries still pending after the poll (the outbox). */
  pending: number;
  /** Alerts the poller resolved. */
  resolved: number;
  /** Peak RSS of the process during this poll (VmHWM, reset before the poll), KiB. */
  peakRssKb: number;
  /** RSS when the poll started, KiB. */
  startRssKb: number;
  /** Wall time of the poll, ms (the machine's, not the virtual clock's). */
  wallMs: number;
  /** Warnings and errors the poller logged (first few). */
  logged: string[];
}

/** Child -> parent. */
export type ChildMessage =
  | { type: 'ready'; rssKb: number; boundMs: number }
  | { type: 'clock'; now: number; id: number }
  | { type: 'done'; report: PollReport }
  | { type: 'fatal'; message: string };

/** The function timeout passed: the poll is ended where it stood, as Lambda would end it. */
class Killed extends Error {
  constructor(timeoutMs: number) {
    super(`killed by the function timeout (${Math.round(timeoutMs / 1000)} s)`);
    this.name = 'Killed';
  }
}

/** The virtual clock of a child: sleeps move it and wait for the parent to follow. */
export interface ChildClock {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Starts a poll at `now`; a sleep past `now + timeoutMs` throws Killed. */
  startPoll(now: number): void;
}

/**
 * Concurrent sleeps (a poll paces two destinations at once) each move the clock by their own length
 * from where it stands, as the e2e harness's virtual clock does: a sleeper never wakes before its
 * time, so no call starts earlier than the poller planned; waits can only be overstated.
 */
export function childClock(timeoutMs: number | undefined, start: number): ChildClock {
  let now = start;
  let killAt = Infinity;
  let seq = 0;
  const waiting = new Map<number, () => void>();
  process.on('message', (m: ParentMessage) => {
    if (m.type !== 'clock-ack') return;
    const wake = waiting.get(m.id);
    waiting.delete(m.id);
    wake?.();
  });
  return {
    now: () => now,
    async sleep(ms) {
      const to = now + Math.max(0, ms);
      if (to > killAt) throw new Killed(timeoutMs ?? 0);
      now = to;
      const id = ++seq;
      await new Promise<void>((resolve) => {
        waiting.set(id, resolve);
        process.send!({ type: 'clock', now, id } satisfies ChildMessage);
      });
    },
    startPoll(at) {
      now = Math.max(now, at);
      killAt = timeoutMs === undefined ? Infinity : now + timeoutMs;
    },
  };
}

/** Tells the parent the poller could not start (its config or app threw) and sets a failing exit code. */
export function failStart(err: unknown): void {
  process.send!({
    type: 'fatal',
    message: err instanceof Error ? err.message : String(err),
  } satisfies ChildMessage);
  process.exitCode = 1;
}

/** This process's peak RSS since the last reset (VmHWM), KiB. */
function peakRssKb(): number {
  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return hwm ? Number(hwm[1]) : Math.round(process.resourceUsage().maxRSS);
}

/** Resets VmHWM to the current RSS (Linux: `5` to /proc/self/clear_refs), so the next peak is one poll's. */
function resetPeakRss(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // Not Linux: the peak stays the process's, which only overstates later polls.
  }
}

function rssKb(): number {
  return Math.round(process.memoryUsage().rss / 1024);
}

/** Sends `message` to the parent and waits until it is written. */
function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => process.send!(message, undefined, {}, () => resolve()));
}

/** One line of an error, for reports. */
function oneLineOf(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.split('\n')[0]!.slice(0, 300);
}

/** DynamoDB usage counted by a middleware on a client: every request, the budget's, and per kind. */
export interface DynamoCounter {
  all: DynamoUse;
  budget: DynamoUse;
  /** By `<operation> <what it touched>` (e.g. `Query digest`, `PutItem budget`). */
  kinds: Record<string, DynamoUse>;
}

/**
 * Counts every request `client` sends, with the capacity DynamoDB reports (the caller asks for
 * ReturnConsumedCapacity); requests on a key whose `pk` starts with `budgetPrefix` count as budget too.
 */
export function countDynamo(client: DynamoDBClient, budgetPrefix = 'B#'): DynamoCounter {
  const counter: DynamoCounter = { all: use(), budget: use(), kinds: {} };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = (context.commandName ?? 'unknown').replace(/Command$/, '');
      const { pk, sk } = keyOf(args.input as CommandInput);
      const budget = pk?.startsWith(budgetPrefix) === true;
      const kind = `${operation} ${areaOf(pk, sk, budget)}`;
      const read = /^(Get|BatchGet|Query|Scan)/.test(operation);
      const add = (consumed: ConsumedCapacity | ConsumedCapacity[] | undefined): void => {
        const units = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).reduce(
          (sum, c) => sum + (c.CapacityUnits ?? 0),
          0,
        );
        counter.kinds[kind] ??= use();
        for (const u of budget
          ? [counter.all, counter.budget, counter.kinds[kind]]
          : [counter.all, counter.kinds[kind]]) {
          u.requests += 1;
          if (read) u.rcu += units;
          else u.wcu += units;
        }
      };
      try {
        const out = await next(args);
        add((out.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }).ConsumedCapacity);
        return out;
      } catch (err) {
        // A failed condition still costs a write; DynamoDB does not say how much here.
        add(undefined);
        throw err;
      }
    },
    { step: 'initialize', name: 'benchDynamoCounter' },
  );
  return counter;
}

type Attr = { S?: string };
type KeyHolder = { pk?: Attr; sk?: Attr };
interface CommandInput {
  Key?: KeyHolder;
  Item?: KeyHolder;
  ExpressionAttributeValues?: Record<string, Attr>;
  RequestItems?: Record<
    string,
    { Keys?: KeyHolder[] } | Array<{ PutRequest?: { Item?: KeyHolder }; DeleteRequest?: { Key?: KeyHolder } }>
  >;
}

/** The partition (and sort) key a command touches: its Key or Item, a Query's first value, a batch's first item. */
function keyOf(input: CommandInput): { pk?: string; sk?: string } {
  const direct = input.Key ?? input.Item;
  if (direct) return { pk: direct.pk?.S, sk: direct.sk?.S };
  if (input.ExpressionAttributeValues) {
    const values = Object.values(input.ExpressionAttributeValues).map((v) => v.S);
    return { pk: values[0], sk: values[1] };
  }
  const batch = input.RequestItems ? Object.values(input.RequestItems)[0] : undefined;
  if (Array.isArray(batch)) {
    const first = batch[0];
    const key = first?.PutRequest?.Item ?? first?.DeleteRequest?.Key;
    return { pk: key?.pk?.S, sk: key?.sk?.S };
  }
  const key = batch?.Keys?.[0];
  return { pk: key?.pk?.S, sk: key?.sk?.S };
}

/** What a key belongs to, in this product's table layout (lib/state/layout.ts `PK`, `SK`). */
function areaOf(pk: string | undefined, sk: string | undefined, budget: boolean): string {
  if (budget) return 'budget';
  if (pk === undefined) return 'other';
  if (/#S#/.test(pk)) {
    const kinds: Record<string, string> = {
      C: 'scope state',
      D: 'digest',
      V: 'cycle keys',
      K: 'list sketch',
      A: 'open alerts',
      Y: 'day counters',
    };
    return kinds[sk?.charAt(0) ?? ''] ?? 'scope';
  }
  if (/#P#/.test(pk)) return 'task details';
  if (pk.endsWith('#O#due')) return 'outbox due index';
  if (pk.endsWith('#O')) return 'outbox';
  if (pk.endsWith('#open')) return 'open alerts index';
  if (/#X(#|$)/.test(pk)) return 'silences';
  if (pk.endsWith('#D')) return 'markers';
  return 'item';
}

function use(): DynamoUse {
  return { requests: 0, rcu: 0, wcu: 0 };
}

/** Per-kind `after - before`, kinds with no request left out. */
function kindsDelta(
  after: Record<string, DynamoUse>,
  before: Record<string, DynamoUse>,
): Record<string, DynamoUse> {
  const out: Record<string, DynamoUse> = {};
  for (const [kind, use] of Object.entries(after)) {
    const d = minus(use, before[kind] ?? { requests: 0, rcu: 0, wcu: 0 });
    if (d.requests > 0) out[kind] = d;
  }
  return out;
}

/** `after - before`. */
export function minus(after: DynamoUse, before: DynamoUse): DynamoUse {
  return {
    requests: after.requests - before.requests,
    rcu: after.rcu - before.rcu,
    wcu: after.wcu - before.wcu,
  };
}

/** What a poller's child does: one invocation, and running totals the runtime takes differences of. */
export interface ChildPoller {
  /** HSS calls made and DynamoDB used since the process started, every app it built together. */
  totals(): { hssCalls: number; dynamo: DynamoUse; budget: DynamoUse; kinds: Record<string, DynamoUse> };
  /** One invocation at `now`; `fresh`: on a new app (a cold container). */
  poll(now: number, fresh: boolean): Promise<PollOutcome>;
  /** Warnings and errors logged since the last call (the runtime drains it after each poll). */
  drainLogged(): string[];
}

/** What only the poller itself can say about an invocation. */
type PollOutcome = Pick<
  PollReport,
  | 'alertsNew'
  | 'changes'
  | 'checkListsLeft'
  | 'listsLeft'
  | 'pending'
  | 'resolved'
  | 'dynamoCounted'
  | 'callsPerCheck'
>;

/**
 * The child's side of the protocol: says `ready` (with the detection bound the poller promises for
 * its scopes), then runs one invocation per `poll` message (clock set to its start, peak RSS reset)
 * and answers `done` (an invocation that threw or was killed too), until `exit`.
 */
export async function serve(clock: ChildClock, poller: ChildPoller, boundMs: number): Promise<void> {
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'exit') process.exit(0);
    if (m.type !== 'poll') return;
    const startedAt = m.now;
    clock.startPoll(startedAt);
    resetPeakRss();
    const startRssKb = rssKb();
    const before = poller.totals();
    const wallStart = performance.now();
    const failed: PollOutcome = {
      alertsNew: 0,
      changes: 0,
      checkListsLeft: 0,
      listsLeft: 0,
      pending: 0,
      resolved: 0,
      callsPerCheck: [],
    };
    poller.poll(startedAt, m.fresh === true).then(
      (outcome) => finish(outcome),
      (err: unknown) => finish(failed, err),
    );
    function finish(outcome: PollOutcome, err?: unknown): void {
      const after = poller.totals();
      const report: PollReport = {
        ok: err === undefined,
        ...(err === undefined ? {} : { error: oneLineOf(err), killed: err instanceof Killed }),
        ...outcome,
        startedAt,
        endedAt: clock.now(),
        hssCalls: after.hssCalls - before.hssCalls,
        dynamo: minus(after.dynamo, before.dynamo),
        budget: minus(after.budget, before.budget),
        dynamoKinds: kindsDelta(after.kinds, before.kinds),
        peakRssKb: peakRssKb(),
        startRssKb,
        wallMs: performance.now() - wallStart,
        logged: poller.drainLogged().slice(0, 5),
      };
      void send({ type: 'done', report });
    }
  });
  await send({ type: 'ready', rssKb: rssKb(), boundMs });
}

/** A Log-shaped recorder that keeps warnings and errors (lib's Log and the release's are the same shape). */
export function recordingLog(): {
  log: {
    debug(message: string): void;
    info(message: string): void;
    warn(message: string): void;
    error(message: string): void;
  };
  drain(): string[];
} {
  let kept: string[] = [];
  return {
    log: {
      debug() {},
      info() {},
      warn: (message) => void kept.push(`warn: ${message}`),
      error: (message) => void kept.push(`error: ${message}`),
    },
    drain() {
      const out = kept;
      kept = [];
      return out;
    },
  };
}
