// The README's tables of variables and destinations, made from the one variables table
// (lib/config/variables.ts) and the one list of channels (lib/notify/channels/index.ts).
// `npx tsx test/config/readme-table.ts && npx prettier --write README.md` rewrites them in place;
// test/config/readme.test.ts fails when the README and the sources disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GROUPS, VARIABLES, type Variable } from '../../lib/config/variables';
import { CHANNELS } from '../../lib/notify/channels';
import type { AnyChannelSpec, VendorAnswers } from '../../lib/notify/channels/spec';

export const README = join(__dirname, '..', '..', 'README.md');

/** A generated section of the README: between its two marker lines. */
export interface Section {
  start: string;
  end: string;
  header: string[];
  rows(): string[][];
}

/** Plain text as markdown shows it: `*` (as in `https://*.logic.azure.com`) would start emphasis. */
const markdown = (text: string) => text.replace(/\*/g, '\\*');
const code = (text: string) => `\`${text}\``;

export const VARIABLES_SECTION: Section = {
  start: '<!-- variables: made from lib/config/variables.ts by test/config/readme-table.ts -->',
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
  start: '<!-- destinations: made from lib/notify/channels/index.ts by test/config/readme-table.ts -->',
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

const SECTIONS = [VARIABLES_SECTION, DESTINATIONS_SECTION];

/** A section's table as markdown (unpadded: prettier pads it). */
function table(section: Section): string {
  const line = (cells: string[]) => {
    for (const cell of cells) if (cell.includes('|')) throw new Error(`a cell holds "|": ${cell}`);
    return `| ${cells.join(' | ')} |`;
  };
  return [line(section.header), line(section.header.map(() => '---')), ...section.rows().map(line)].join(
    '\n',
  );
}

/** Where a section's markers are in `readme`; throws when they are missing. */
function bounds(readme: string, section: Section): [number, number] {
  const start = readme.indexOf(section.start);
  const end = readme.indexOf(section.end);
  if (start < 0 || end < start)
    throw new Error(`README.md has no ${section.start} ... ${section.end} section`);
  return [start + section.start.length, end];
}

/** The rows of a section's table in the README, as cells (trimmed). */
export function readmeRows(readme: string, section: Section): string[][] {
  const [start, end] = bounds(readme, section);
  return readme
    .slice(start, end)
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .slice(2)
    .map((l) =>
      l
        .slice(1, -1)
        .split(' | ')
        .map((c) => c.trim()),
    );
}

if (require.main === module) {
  let readme = readFileSync(README, 'utf8');
  for (const section of SECTIONS) {
    const [start, end] = bounds(readme, section);
    readme = `${readme.slice(0, start)}\n\n${table(section)}\n\n${readme.slice(end)}`;
  }
  writeFileSync(README, readme);
}
