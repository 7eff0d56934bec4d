// The docs' tables of variables (docs/configuration.md) and destinations (docs/destinations.md),
// made from the one variables table (lib/config/variables.ts) and the one list of channels
// (lib/notify/channels/index.ts).
// `npx tsx test/config/docs-tables.ts && npx prettier --write docs` rewrites them in place;
// test/config/docs.test.ts fails when the docs and the sources disagree.
import { join } from 'node:path';
import { GROUPS, VARIABLES, type Variable } from '../../lib/config/variables';
import { CHANNELS } from '../../lib/notify/channels';
import type { AnyChannelSpec, VendorAnswers } from '../../lib/notify/channels/spec';
import { rewriteTable, type GeneratedTable } from '../support/generated-table';

const DOCS = join(__dirname, '..', '..', 'docs');

/** A generated table of the docs, and how its rows are made. */
export interface Section extends GeneratedTable {
  rows(): string[][];
}

/** Plain text as markdown shows it: `*` (as in `https://*.logic.azure.com`) would start emphasis. */
const markdown = (text: string) => text.replace(/\*/g, '\\*');
const code = (text: string) => `\`${text}\``;

export const VARIABLES_SECTION: Section = {
  file: join(DOCS, 'configuration.md'),
  start: '<!-- variables: made from lib/config/variables.ts by test/config/docs-tables.ts -->',
  end: '<!-- /variables -->',
  header: ['Variable', 'Secret', 'Default', 'Rule', 'Meaning'],
  /** The cells of each variable's row, in table order, grouped as GROUPS lists them. */
  rows() {
    const entries = Object.entries(VARIABLES) as [string, Variable<unknown>][];
    return GROUPS.flatMap((group) =>
      entries
        .filter(([, v]) => v.group === group)
        .map(([name, v]) => [
          v.perCredential ? `${code(name)}, ${code(`${name}__<NAME>`)}` : code(name),
          v.secret ? 'yes, or `_PARAM`' : '',
          v.required ? 'required' : v.default !== undefined ? code(v.default) : (v.defaultDoc ?? ''),
          markdown(v.rule.expected),
          markdown(v.doc),
        ]),
    );
  },
};

/** What a vendor's answers mean, in a few words. */
function answersText(answers: VendorAnswers): string {
  switch (answers.kind) {
    case 'http':
      return 'the HTTP status';
    case 'words':
      return `the HTTP status, and ${Object.keys(answers.words).length} error words in a 2xx body`;
    case 'codes': {
      const codes = Object.entries(answers.rules.codes);
      const of = (kind: string) =>
        codes
          .filter(([, m]) => m.kind === kind)
          .map(([c]) => c)
          .join(', ');
      return `\`${answers.rules.fields.join('`/`')}\` in the body: ${of('retryable')} retried; ${of('permanent')} refused; others retried`;
    }
  }
}

export const DESTINATIONS_SECTION: Section = {
  file: join(DOCS, 'destinations.md'),
  start: '<!-- destinations: made from lib/notify/channels/index.ts by test/config/docs-tables.ts -->',
  end: '<!-- /destinations -->',
  header: [
    '`type`',
    'Destination',
    'Variables (the first turns it on)',
    'File keys',
    'Answers',
    'Quiet hours',
    'Bursts',
    'Pace',
  ],
  /** One row per channel, in CHANNELS order. */
  rows() {
    return (CHANNELS as readonly AnyChannelSpec[]).map((c) => [
      code(c.type),
      `${c.displayName}: ${markdown(c.doc)}`,
      Object.keys(c.variables).map(code).join(', '),
      c.fileKeys.map(code).join(', '),
      answersText(c.answers),
      c.heldByQuietHours ? 'held' : 'never held',
      c.digests ? 'one digest' : 'one request each',
      `${c.limits.minIntervalMs} ms apart, ${c.limits.perMinute}/min`,
    ]);
  },
};

if (require.main === module)
  for (const section of [VARIABLES_SECTION, DESTINATIONS_SECTION]) rewriteTable(section, section.rows());
