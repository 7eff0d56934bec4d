// Rows of one list that name the same task (same host, backup and start) collapse to one, the same
// one whatever order HSS sent them in: a duplicated row never crashes a write, never alerts twice,
// and never flips a task's state from poll to poll. Pure; tested in test/diff/duplicates.test.ts.
import type { Task, TaskStatus } from '../model';

/** Which row of a duplicated task wins: an alert status first (never blind), then the rest. */
const RANK: readonly TaskStatus[] = [
  'failed',
  'timeout',
  'running',
  'waiting',
  'unknown',
  'skipped',
  'success',
];

/** A task as read, with its digest key. */
export interface Keyed {
  task: Task;
  key: string;
}

/**
 * One row per key, in the order keys first appear: of rows sharing a key, the one whose status
 * ranks first (failed, timeout, running, waiting, unknown, skipped, success), then the one whose JSON
 * sorts first. `duplicates` counts the rows dropped; `variants` lists, per key named more than once,
 * every row naming it.
 */
export function collapseDuplicates(rows: readonly Keyed[]): {
  rows: Keyed[];
  duplicates: number;
  variants: Map<string, Task[]>;
} {
  const best = new Map<string, Keyed>();
  const all = new Map<string, Task[]>();
  for (const row of rows) {
    const held = best.get(row.key);
    if (!held || precedes(row.task, held.task)) best.set(row.key, row);
    all.set(row.key, [...(all.get(row.key) ?? []), row.task]);
  }
  const variants = new Map([...all].filter(([, tasks]) => tasks.length > 1));
  return { rows: [...best.values()], duplicates: rows.length - best.size, variants };
}

/** Whether `a` wins over `b`, two rows naming the same task. */
export function precedes(a: Task, b: Task): boolean {
  const rank = RANK.indexOf(a.status) - RANK.indexOf(b.status);
  if (rank !== 0) return rank < 0;
  return JSON.stringify(a) < JSON.stringify(b);
}
