import { PK, SK } from '../../lib/state/layout';
import { documentRows } from '../support/generated-table';
import { ITEMS, layoutRows, STATE_TABLE } from './layout-table';

describe('the state layout', () => {
  it('is the table the README shows', () => {
    // Assess: `npx tsx test/state/layout-table.ts && npx prettier --write README.md` fixes a mismatch.
    expect(documentRows(STATE_TABLE)).toEqual(layoutRows());
  });

  it('gives every sort-key prefix one meaning, whatever partition it is in', () => {
    const prefixes = [
      SK.digestPrefix,
      SK.seenCycle('failed', 0).slice(0, 2),
      SK.taskPrefix,
      SK.openAlertPrefix,
      SK.dayCounters('2026-11-27').slice(0, 2),
      SK.markers.slice(0, 2),
      SK.outboxMessagePrefix,
      SK.destinationHealthPrefix,
      SK.lease.slice(0, 2),
      SK.silencePrefix,
      SK.swallowedPrefix,
      SK.scopeState.slice(0, 2),
    ];
    expect(prefixes).toEqual([...new Set(prefixes)]);
    expect(SK.outboxMessage('x').slice(0, 2)).not.toBe(SK.markers.slice(0, 2));
  });

  it('namespaces every partition but the call budget, so stacks can share a table and its budget', () => {
    const ns = 'stack-a';
    const namespaced = [
      PK.scope(ns, 's'),
      PK.project(ns, 'p'),
      PK.deployment(ns),
      PK.outbox(ns),
      PK.outboxDue(ns),
      PK.silences(ns),
      PK.swallowed(ns, 'x'),
      PK.openAlerts(ns),
    ];
    expect(namespaced.every((pk) => pk.startsWith(`${ns}#`))).toBe(true);
    expect(new Set(namespaced).size).toBe(namespaced.length);
    expect(PK.budget('abc')).toBe('B#abc');
    expect(ITEMS.length).toBeGreaterThanOrEqual(13);
  });
});
