// The benchmark's data: the grid of windows the emulator serves, the 20 new failures, and the latency
// probes placed at either end of the failed list. Deterministic: same input, same tasks.
import { makeTasks, type EmulatedTask } from '../local/hss-emulator';
import type { PollerId } from './protocol';

/** Virtual time every chain starts at (a whole minute). */
export const T_BASE = Date.UTC(2026, 0, 15, 12, 0, 0);
export const MIN = 60_000;
export const HOUR = 60 * MIN;
/** The emulator's project and the scope every chain polls. */
export const PROJECT_ID = 'demo-project';
export const REGION = 'cn-north-4';
/** Credentials the emulator accepts by default. */
export const EMULATOR_AK = 'EMULATORAK';
export const EMULATOR_SK = 'EMULATORSK';
export const WEBHOOK_SECRET = 'whsec_YmVuY2gtd2ViaG9vay1zZWNyZXQtMDEyMzQ1Njc4OQ==';

/** One window of the grid: its size and how many of its tasks failed or are in flight (half running, half waiting). */
export interface Scenario {
  id: string;
  title: string;
  size: number;
  failed: number;
  inFlight: number;
  /** What the naive poller runs here: everything, only its first poll (its work is the window, every poll), or nothing. */
  naive: 'full' | 'first-only' | 'skip';
  /** List orders the latency is measured in, per poller (the naive poller reads every page of one list whatever the order). */
  orders: Record<PollerId, ReadonlyArray<ListOrder>>;
}

export type ListOrder = 'newest-first' | 'oldest-first';

const BOTH: ReadonlyArray<ListOrder> = ['newest-first', 'oldest-first'];
const NEWEST: ReadonlyArray<ListOrder> = ['newest-first'];

/**
 * The grid: the three window sizes quiet, then the three ways a night goes wrong at 10,000 tasks
 * (a busy night, a storage incident, a fleet-wide backup window) and all of it at 50,000. Not the
 * full cross product: the naive poller's cost is the window whatever is in it (measured in full at
 * 1k and 10k, first poll at 50k), so besides the quiet windows it runs in the incident only.
 */
export const SCENARIOS: readonly Scenario[] = [
  {
    id: '1k',
    title: '1,000 tasks, quiet',
    size: 1_000,
    failed: 0,
    inFlight: 0,
    naive: 'full',
    orders: { ours: BOTH, today: BOTH, naive: BOTH },
  },
  {
    id: '10k',
    title: '10,000 tasks, quiet',
    size: 10_000,
    failed: 0,
    inFlight: 0,
    naive: 'full',
    orders: { ours: BOTH, today: BOTH, naive: NEWEST },
  },
  {
    id: '50k',
    title: '50,000 tasks, quiet',
    size: 50_000,
    failed: 0,
    inFlight: 0,
    naive: 'first-only',
    orders: { ours: BOTH, today: BOTH, naive: NEWEST },
  },
  {
    id: '10k-busy',
    title: '10,000 tasks: 500 failed, 2,000 in flight (a busy night)',
    size: 10_000,
    failed: 500,
    inFlight: 2_000,
    naive: 'skip',
    orders: { ours: BOTH, today: BOTH, naive: NEWEST },
  },
  {
    id: '10k-incident',
    title: '10,000 tasks: 3,000 failed (a storage incident)',
    size: 10_000,
    failed: 3_000,
    inFlight: 0,
    naive: 'full',
    orders: { ours: BOTH, today: BOTH, naive: NEWEST },
  },
  {
    id: '10k-backups',
    title: '10,000 tasks: 5,000 in flight (a fleet-wide backup window)',
    size: 10_000,
    failed: 0,
    inFlight: 5_000,
    naive: 'skip',
    orders: { ours: BOTH, today: BOTH, naive: NEWEST },
  },
  {
    id: '50k-all',
    title: '50,000 tasks: 3,000 failed, 5,000 in flight',
    size: 50_000,
    failed: 3_000,
    inFlight: 5_000,
    naive: 'skip',
    orders: { ours: BOTH, today: BOTH, naive: NEWEST },
  },
];

/** Status of task `i` of a scenario: fixed counts, spread over the window by a multiplicative hash. */
function statusOf(s: Scenario, i: number): string {
  const bucket = (i * 7919) % s.size;
  if (bucket < s.failed) return 'failed';
  if (bucket < s.failed + s.inFlight / 2) return 'running';
  if (bucket < s.failed + s.inFlight) return 'waiting';
  return 'success';
}

/**
 * The window of a scenario: `size` tasks started within 20 h before `now`, but the in-flight ones
 * started within the last 2 h (tasks in flight are recent: a backup window, not a stuck fleet, so
 * the stuck rules stay quiet over a chain).
 */
export function windowTasks(s: Scenario, now = T_BASE): EmulatedTask[] {
  const tasks = makeTasks(s.size, { now, seed: 7, status: (i) => statusOf(s, i) });
  tasks.forEach((t, i) => {
    if (t.status !== 'running' && t.status !== 'waiting') return;
    const ago = 2 * MIN + ((i * 7919) % 1_000) * ((2 * HOUR - 2 * MIN) / 1_000);
    t.started_at = new Date(Math.floor((now - ago) / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  });
  return tasks;
}

/** Count of tasks per status. */
export function statusCounts(tasks: readonly EmulatedTask[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const t of tasks) counts[t.status] = (counts[t.status] ?? 0) + 1;
  return counts;
}

/** A failed record as HSS sends it. */
export function failedTask(host: string, startedAt: number): EmulatedTask {
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    host_id: `${host}-id`,
    host_name: host,
    backup_name: 'nightly',
    process: 60,
    status: 'failed',
    started_at: iso(Math.floor(startedAt / 1000) * 1000),
    ended_at: iso(Math.floor(startedAt / 1000) * 1000 + 45_000),
    error_info: { code: 'BACKUP.0002', message: 'Backup failed: the HSS agent is offline' },
  };
}

/** 20 new failures at `now`, one started every hour back from 30 minutes ago: spread over the whole list. */
export function newFailures(now: number): EmulatedTask[] {
  return Array.from({ length: 20 }, (_, k) => failedTask(`new-failure-${k}`, now - 30 * MIN - k * HOUR));
}

/** Oldest start any window task can have: makeTasks spreads them over 20 h before T_BASE. */
export const OLDEST_START = T_BASE - 20 * HOUR - 2 * MIN;
