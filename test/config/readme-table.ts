// The README's table of variables, made from the one table in lib/config/variables.ts.
// `npx tsx test/config/readme-table.ts && npx prettier --write README.md` rewrites it in place;
// test/config/readme.test.ts fails when the README and the table disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GROUPS, VARIABLES, type Variable } from '../../lib/config/variables';

export const README = join(__dirname, '..', '..', 'README.md');
export const START = '<!-- variables: made from lib/config/variables.ts by test/config/readme-table.ts -->';
export const END = '<!-- /variables -->';
export const HEADER = ['Variable', 'Secret', 'Default', 'Rule', 'Meaning'];

/** The cells of each variable's row, in table order, grouped as GROUPS lists them. */
export function variableRows(): string[][] {
  const entries = Object.entries(VARIABLES) as [string, Variable<unknown>][];
  return GROUPS.flatMap((group) =>
    entries
      .filter(([, v]) => v.group === group)
      .map(([name, v]) => [
        v.perCredential ? `\`${name}\`, \`${name}__<NAME>\`` : `\`${name}\``,
        v.secret ? 'yes, or `_PARAM`' : '',
        v.required ? 'required' : v.default !== undefined ? `\`${v.default}\`` : (v.defaultDoc ?? ''),
        markdown(v.rule.expected),
        markdown(v.doc),
      ]),
  );
}

/** Plain text as markdown shows it: `*` (as in `https://*.logic.azure.com`) would start emphasis. */
const markdown = (text: string) => text.replace(/\*/g, '\\*');

/** The table as markdown (unpadded: prettier pads it). */
export function variablesTable(): string {
  const line = (cells: string[]) => {
    for (const cell of cells) if (cell.includes('|')) throw new Error(`a cell holds "|": ${cell}`);
    return `| ${cells.join(' | ')} |`;
  };
  return [line(HEADER), line(HEADER.map(() => '---')), ...variableRows().map(line)].join('\n');
}

/** The rows of the README's table, as cells (trimmed). */
export function readmeRows(readme: string): string[][] {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${START} ... ${END} section`);
  return readme
    .slice(start + START.length, end)
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
  const readme = readFileSync(README, 'utf8');
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${START} ... ${END} section`);
  writeFileSync(
    README,
    `${readme.slice(0, start + START.length)}\n\n${variablesTable()}\n\n${readme.slice(end)}`,
  );
}
