// The README's state table, made from lib/state/layout.ts (ITEMS).
// `npx tsx test/state/layout-table.ts && npx prettier --write README.md` rewrites it in place;
// test/state/layout.test.ts fails when the README and the layout disagree.
import { join } from 'node:path';
import { ITEMS } from '../../lib/state/layout';
import { rewriteTable, type GeneratedTable } from '../support/generated-table';

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
