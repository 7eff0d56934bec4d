// The README is a front door and the docs stay true to the tree: short, the two commands first,
// every link and every file path they name resolving, and no issue numbers (they mean nothing in
// the repository).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const DOCS = join(ROOT, 'docs');
const FILES = [join(ROOT, 'README.md'), ...readdirSync(DOCS).map((f) => join(DOCS, f))];
const text = (file: string) => readFileSync(file, 'utf8');

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as dashes. */
const anchor = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} -]/gu, '')
    .replace(/ /g, '-');

/** The anchors of a markdown file's headings (outside code blocks). */
function anchors(file: string): string[] {
  const out: string[] = [];
  let fence = false;
  for (const line of text(file).split('\n')) {
    if (line.startsWith('```')) fence = !fence;
    const m = /^#+ (.*)$/.exec(line);
    if (!fence && m) out.push(anchor(m[1]!));
  }
  return out;
}

describe('the README and the docs', () => {
  it('open with the demo and test commands, in a README of at most 250 lines', () => {
    const readme = text(join(ROOT, 'README.md'));
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    expect(readme.split('\n').slice(0, 6).join('\n')).toMatch(
      /```sh\nnpm ci && npm run demo .*\nnpm ci && npm test .*\n```/,
    );
  });

  it('link only to files and headings that exist', () => {
    const broken: string[] = [];
    for (const file of FILES) {
      for (const [, target] of text(file).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^https?:/.test(target!)) continue;
        const [path, hash] = target!.split('#') as [string, string | undefined];
        const to = path === '' ? file : join(dirname(file), path);
        const ok = existsSync(to) && (hash === undefined || anchors(to).includes(hash));
        if (!ok) broken.push(`${relative(ROOT, file)}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('name only source files that exist', () => {
    const missing: string[] = [];
    for (const file of FILES) {
      for (const [, path] of text(file).matchAll(
        /`((?:lib|cli|handlers|local|test|deploy|bench)\/[\w./-]+\.(?:ts|cjs|js))(?::[^`]*)?`/g,
      ))
        if (!existsSync(join(ROOT, path!))) missing.push(`${relative(ROOT, file)}: ${path}`);
    }
    expect(missing).toEqual([]);
  });

  it('cite no issue numbers', () => {
    const cited = FILES.flatMap((file) =>
      [...text(file).matchAll(/\bissues? #?\d+/gi)].map((m) => `${relative(ROOT, file)}: ${m[0]}`),
    );
    expect(cited).toEqual([]);
  });
});
