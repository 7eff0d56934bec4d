// A list scan continued over polls must advance even when a poll can afford one call for the list:
// it reads on from its cursor before it re-reads the head, and never steps back a whole page.
import type { Page } from '../../lib/hss/pages';
import { createScan, type ListScan, type ScanOptions } from '../../lib/poll/scan';
import type { ListCursor } from '../../lib/state/records';

const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
const PAGE = 10;

function page(rows: number, totalNum = 1000): Page {
  return { rows, tasks: [], rejected: [], totalNum };
}

function scan(cursor: ListCursor | undefined): ListScan {
  const options: ScanOptions = {
    list: 'failed',
    cursor,
    lastDays: 1,
    pageSize: PAGE,
    rereadHead: true,
    stepBack: true,
    periodMs: 60_000,
  };
  return createScan(options);
}

/** Reads `calls` pages of a list of `length` records (full pages until the end), returns the offsets read. */
function poll(s: ListScan, calls: number, length: number, now: number): number[] {
  const read: number[] = [];
  for (let i = 0; i < calls; i++) {
    const at = s.next();
    if (at === undefined) break;
    read.push(at);
    s.accept(at, page(Math.max(0, Math.min(PAGE, length - at))), at + 1, [], now);
  }
  return read;
}

describe('a list scan continued over polls', () => {
  it('reads on before it re-reads the head, so one call a poll still reaches the end of a long list', () => {
    // Prepare: 45 records, pages of 10, one call a poll.
    let cursor: ListCursor | undefined;
    const reads: number[][] = [];
    // Act
    for (let i = 0; i < 12; i++) {
      const s = scan(cursor);
      reads.push(poll(s, 1, 45, T0 + i * 60_000));
      ({ cursor } = s.save(T0 + i * 60_000));
    }
    // Assess: the offsets advance until a short page ends the cycle (then a new cycle starts at 0).
    const offsets = reads.map((r) => r[0]!);
    expect(offsets.slice(0, 2)).toEqual([0, 5]);
    expect(offsets.indexOf(0, 1)).toBeGreaterThan(0);
    expect(Math.max(...offsets)).toBeGreaterThanOrEqual(40);
  });

  it('re-reads the head after reading on when the poll has calls to spare', () => {
    // Prepare: a cycle left at record 20 by an earlier poll.
    const first = scan(undefined);
    poll(first, 3, 1000, T0);
    const { cursor } = first.save(T0);
    // Act
    const read = poll(scan(cursor), 3, 1000, T0 + 60_000);
    // Assess
    expect(cursor.offset).toBe(25);
    expect(read).toEqual([25, 0, 35]);
  });
});
