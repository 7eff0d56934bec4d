// The README's state table: every item the product writes (ITEMS), its keys and expiry built by
// lib/state/layout.ts's own key builders, so the table cannot say what the code does not do.
// `npx tsx test/state/layout-table.ts && npx prettier --write README.md` rewrites it in place;
// test/state/layout.test.ts fails when the README and the layout disagree.
import { join } from 'node:path';
import { PK, RETENTION, SK } from '../../lib/state/layout';
import { rewriteTable, type GeneratedTable } from '../support/generated-table';

/** The namespace as the table shows it. */
const NS = '{ns}';
/** A key as markdown code. */
const code = (key: string) => `\`${key}\``;

/** One kind of item, as the README's state table shows it. */
interface ItemKind {
  item: string;
  pk: string;
  sk: string;
  attributes: string;
  /** When it is in the sparse index, or `never`. */
  index: string;
  kept: string;
}

/** Every item the product writes (the README's state table). */
export const ITEMS: readonly ItemKind[] = [
  {
    item: 'scope state',
    pk: code(PK.scope(NS, '{scope}')),
    sk: code(SK.scopeState),
    attributes: '`st`: JSON (plan, list cursors, watermark, health, gap, follow-ups, open hosts)',
    index: 'never',
    kept: `${RETENTION.scopeStateDays} d`,
  },
  {
    item: 'digest shard',
    pk: code(PK.scope(NS, '{scope}')),
    sk: code(`${SK.digestPrefix}{n}`),
    attributes: '`e`: 44 bytes per task the lists showed; `v`: version (conditional writes)',
    index: 'never',
    kept: `${RETENTION.digestDays} d`,
  },
  {
    item: 'seen keys of a list read across polls',
    pk: code(PK.scope(NS, '{scope}')),
    sk: code(`${SK.seenCycle('{list}', '{cycle start}' as unknown as number)}{poll}.{n}`),
    attributes:
      '`k`: 8 bytes per key a poll saw in a cycle that spans polls, `h`: 8 bytes of its row hash (chunks of 20,000)',
    index: 'never',
    kept: `${RETENTION.digestDays} d`,
  },
  {
    item: 'list sketch',
    pk: code(PK.scope(NS, '{scope}')),
    sk: code(SK.sketch('{list}')),
    attributes: '`h`: 8 bytes per row of the last complete cycle (key and content); `n`: its keys',
    index: 'never',
    kept: `${RETENTION.digestDays} d`,
  },
  {
    item: 'open alert',
    pk: code(PK.scope(NS, '{scope}')),
    sk: code(SK.openAlert('{host+backup hash}', '{task}')),
    attributes: '`o`: JSON; `aid`: alert id; `g1pk` `{ns}#open`, `g1sk` `{remind at}#{scope}#{task}`',
    index: 'a reminder is due (sorted by when)',
    kept: `${RETENTION.alertDays} d`,
  },
  {
    item: 'day counters',
    pk: code(PK.scope(NS, '{scope}')),
    sk: code(SK.dayCounters('{YYYY-MM-DD}')),
    attributes: 'counts (`succeeded`, `failed`, …), `slow`: JSON',
    index: 'never',
    kept: `${RETENTION.messageDays} d`,
  },
  {
    item: 'task detail',
    pk: code(PK.project(NS, '{project}')),
    sk: code(SK.task('{task}')),
    attributes: '`t`: the task as read (text fields clipped)',
    index: 'never',
    kept: `${RETENTION.taskDays} d`,
  },
  {
    item: 'deployment markers',
    pk: code(PK.deployment(NS)),
    sk: code(SK.markers),
    attributes: '`m`: JSON (day last summarised, monitoring since, budget starvation per credential)',
    index: 'never',
    kept: `${RETENTION.scopeStateDays} d`,
  },
  {
    item: 'outbox message',
    pk: code(PK.outbox(NS)),
    sk: code(SK.outboxMessage('{message id}')),
    attributes:
      '`message`: JSON; `delivery#{destination}`: JSON each; `g1pk` `{ns}#O#due`, `g1sk` `{due at}#{id}`',
    index: 'a delivery is pending or held (sorted by when it is due)',
    kept: `${RETENTION.alertDays} d (alerts), ${RETENTION.messageDays} d (others)`,
  },
  {
    item: 'destination health',
    pk: code(PK.outbox(NS)),
    sk: code(SK.destinationHealth('{destination}')),
    attributes: 'failing since, last error, undelivered count',
    index: 'while it is failing',
    kept: `${RETENTION.messageDays} d`,
  },
  {
    item: 'destination retry streak',
    pk: code(PK.outbox(NS)),
    sk: code(`${SK.destinationStreakPrefix}{destination}`),
    attributes: 'since (first retryable failure with no 2xx after it), last error, noticed',
    index: 'while it lasts (until a 2xx)',
    kept: `${RETENTION.messageDays} d after its last failure`,
  },
  {
    item: 'alerts no route matched, per UTC day',
    pk: code(PK.outbox(NS)),
    sk: code(`${SK.unroutedDayPrefix}{YYYY-MM-DD}`),
    attributes: 'count, the last alert',
    index: 'never',
    kept: `${RETENTION.unroutedDays} d`,
  },
  {
    item: 'delivery lease',
    pk: code(PK.outbox(NS)),
    sk: code(SK.lease),
    attributes: '`owner`, `until`',
    index: 'never',
    kept: 'while held',
  },
  {
    item: 'silence',
    pk: code(PK.silences(NS)),
    sk: code(SK.silence('{id}')),
    attributes: '`s`: JSON',
    index: 'never',
    kept: `${RETENTION.alertDays} d after it ends`,
  },
  {
    item: 'swallowed alert',
    pk: code(PK.swallowed(NS, '{silence}')),
    sk: code(SK.swallowedAlert('{alert id}')),
    attributes: '`m`: the alert',
    index: 'never',
    kept: `${RETENTION.alertDays} d`,
  },
  {
    item: 'call budget',
    pk: code(PK.budget('{sha256 of the AK}')),
    sk: code(SK.budget),
    attributes: '`slots`: reserved call starts; `blockedUntil`; `v`',
    index: 'never',
    kept: `${RETENTION.budgetDays} d`,
  },
];

export const STATE_TABLE: GeneratedTable = {
  file: join(__dirname, '..', '..', 'README.md'),
  start: '<!-- state: made from lib/state/layout.ts by test/state/layout-table.ts -->',
  end: '<!-- /state -->',
  header: ['Item', '`pk`', '`sk`', 'Attributes', 'In `gsi1` while', 'Kept'],
};

/** The cells of each item's row. */
export function layoutRows(): string[][] {
  return ITEMS.map((i) => [i.item, i.pk, i.sk, i.attributes, i.index, i.kept]);
}

if (require.main === module) rewriteTable(STATE_TABLE, layoutRows());
