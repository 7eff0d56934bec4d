// The README's state table: every item the product writes (ITEMS), its keys and expiry as
// lib/state/layout.ts builds them.
// `npx tsx test/state/layout-table.ts && npx prettier --write README.md` rewrites it in place;
// test/state/layout.test.ts fails when the README and the layout disagree.
import { join } from 'node:path';
import { RETENTION } from '../../lib/state/layout';
import { rewriteTable, type GeneratedTable } from '../support/generated-table';

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
    pk: '`{ns}#S#{scope}`',
    sk: '`C#state`',
    attributes: '`st`: JSON (plan, list cursors, watermark, health, gap, follow-ups, open hosts)',
    index: 'never',
    kept: `${RETENTION.scopeStateDays} d`,
  },
  {
    item: 'digest shard',
    pk: '`{ns}#S#{scope}`',
    sk: '`D#{n}`',
    attributes: '`e`: 44 bytes per task the lists showed; `v`: version (conditional writes)',
    index: 'never',
    kept: `${RETENTION.digestDays} d`,
  },
  {
    item: 'seen keys of a list read across polls',
    pk: '`{ns}#S#{scope}`',
    sk: '`V#{list}#{cycle start}#{poll}.{n}`',
    attributes:
      '`k`: 8 bytes per key a poll saw in a cycle that spans polls, `h`: 8 bytes of its row hash (chunks of 20,000)',
    index: 'never',
    kept: `${RETENTION.digestDays} d`,
  },
  {
    item: 'list sketch',
    pk: '`{ns}#S#{scope}`',
    sk: '`K#{list}`',
    attributes: '`h`: 8 bytes per row of the last complete cycle (key and content); `n`: its keys',
    index: 'never',
    kept: `${RETENTION.digestDays} d`,
  },
  {
    item: 'open alert',
    pk: '`{ns}#S#{scope}`',
    sk: '`A#{host+backup hash}#{task}`',
    attributes: '`o`: JSON; `aid`: alert id; `g1pk` `{ns}#open`, `g1sk` `{remind at}#{scope}#{task}`',
    index: 'a reminder is due (sorted by when)',
    kept: `${RETENTION.alertDays} d`,
  },
  {
    item: 'day counters',
    pk: '`{ns}#S#{scope}`',
    sk: '`Y#{YYYY-MM-DD}`',
    attributes: 'counts (`succeeded`, `failed`, …), `slow`: JSON',
    index: 'never',
    kept: `${RETENTION.messageDays} d`,
  },
  {
    item: 'task detail',
    pk: '`{ns}#P#{project}`',
    sk: '`T#{task}`',
    attributes: '`t`: the task as read (text fields clipped)',
    index: 'never',
    kept: `${RETENTION.taskDays} d`,
  },
  {
    item: 'deployment markers',
    pk: '`{ns}#D`',
    sk: '`N#markers`',
    attributes: '`m`: JSON (day last summarised, monitoring since, budget starvation per credential)',
    index: 'never',
    kept: `${RETENTION.scopeStateDays} d`,
  },
  {
    item: 'outbox message',
    pk: '`{ns}#O`',
    sk: '`M#{message id}`',
    attributes:
      '`message`: JSON; `delivery#{destination}`: JSON each; `g1pk` `{ns}#O#due`, `g1sk` `{due at}#{id}`',
    index: 'a delivery is pending or held (sorted by when it is due)',
    kept: `${RETENTION.alertDays} d (alerts), ${RETENTION.messageDays} d (others)`,
  },
  {
    item: 'destination health',
    pk: '`{ns}#O`',
    sk: '`H#{destination}`',
    attributes: 'failing since, last error, undelivered count',
    index: 'while it is failing',
    kept: `${RETENTION.messageDays} d`,
  },
  {
    item: 'destination retry streak',
    pk: '`{ns}#O`',
    sk: '`R#{destination}`',
    attributes: 'since (first retryable failure with no 2xx after it), last error, noticed',
    index: 'while it lasts (until a 2xx)',
    kept: `${RETENTION.messageDays} d after its last failure`,
  },
  {
    item: 'alerts no route matched, per UTC day',
    pk: '`{ns}#O`',
    sk: '`U#{YYYY-MM-DD}`',
    attributes: 'count, the last alert',
    index: 'never',
    kept: `${RETENTION.unroutedDays} d`,
  },
  {
    item: 'delivery lease',
    pk: '`{ns}#O`',
    sk: '`L#deliver`',
    attributes: '`owner`, `until`',
    index: 'never',
    kept: 'while held',
  },
  {
    item: 'silence',
    pk: '`{ns}#X`',
    sk: '`X#{id}`',
    attributes: '`s`: JSON',
    index: 'never',
    kept: `${RETENTION.alertDays} d after it ends`,
  },
  {
    item: 'swallowed alert',
    pk: '`{ns}#W#{silence}`',
    sk: '`W#{alert id}`',
    attributes: '`m`: the alert',
    index: 'never',
    kept: `${RETENTION.alertDays} d`,
  },
  {
    item: 'call budget',
    pk: '`B#{sha256 of the AK}`',
    sk: '`B`',
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
