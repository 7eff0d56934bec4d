// Markdown tables a document keeps between two markers and a test keeps equal to their source
// (the variables, the state layout): render one, read one back, rewrite one in place.
import { readFileSync, writeFileSync } from 'node:fs';

/** A generated section: the markers around it and its header. */
export interface GeneratedTable {
  file: string;
  start: string;
  end: string;
  header: string[];
}

/** The table as markdown (unpadded: prettier pads it). */
function tableMarkdown(header: readonly string[], rows: readonly string[][]): string {
  const line = (cells: readonly string[]) => {
    for (const cell of cells) if (cell.includes('|')) throw new Error(`a cell holds "|": ${cell}`);
    return `| ${cells.join(' | ')} |`;
  };
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function section(text: string, t: GeneratedTable): [number, number] {
  const start = text.indexOf(t.start);
  const end = text.indexOf(t.end);
  if (start < 0 || end < start) throw new Error(`${t.file} has no ${t.start} ... ${t.end} section`);
  return [start, end];
}

/** The rows of the document's table, as cells (trimmed). */
export function documentRows(t: GeneratedTable): string[][] {
  const text = readFileSync(t.file, 'utf8');
  const [start, end] = section(text, t);
  return text
    .slice(start + t.start.length, end)
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

/** Rewrites the document's table from `rows` (run prettier on the file afterwards). */
export function rewriteTable(t: GeneratedTable, rows: readonly string[][]): void {
  const text = readFileSync(t.file, 'utf8');
  const [start, end] = section(text, t);
  writeFileSync(
    t.file,
    `${text.slice(0, start + t.start.length)}\n\n${tableMarkdown(t.header, rows)}\n\n${text.slice(end)}`,
  );
}
