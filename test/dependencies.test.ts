import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

// The dependency rule (.dependency-cruiser.cjs) run once over a small made-up lib/ holding one
// mistake of each kind: `npm run deps` passing on the real tree only means something if these are
// refused (and what poll does is not).

const ROOT = join(__dirname, '..');

interface Violation {
  rule: string;
  from: string;
  to: string;
}

/** The violations the rule finds in a tree made of `files` (path -> source). */
function violationsIn(files: Record<string, string>): Violation[] {
  const dir = mkdtempSync(join(tmpdir(), 'deps-'));
  try {
    for (const [path, source] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), source);
    }
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' } }),
    );
    const run = spawnSync(
      join(ROOT, 'node_modules/.bin/depcruise'),
      ['lib', '--config', join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'json'],
      { cwd: dir, encoding: 'utf8' },
    );
    const result = JSON.parse(run.stdout) as {
      summary: { violations: Array<{ rule: { name: string }; from: string; to: string }> };
    };
    return result.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One made-up tree, one mistake per part of it (path -> source). */
const TREE: Record<string, string> = {
  // A lower layer naming a higher one's type.
  'lib/state/records.ts': "import type { Decision } from '../diff/decide';\nexport type D = Decision;\n",
  'lib/diff/decide.ts': "export type Decision = 'alert';\nexport const judge = 1;\n",
  // Two folders of the same layer.
  'lib/hss/reader.ts': "import { card } from '../notify/cards';\nexport const read = card;\n",
  'lib/notify/cards.ts': 'export const card = 1;\n',
  // Two folders importing each other.
  'lib/outbox/send.ts': "import { post } from '../notify/http';\nexport const send = post;\n",
  'lib/notify/http.ts':
    "import type { send } from '../outbox/send';\nexport const post = 1;\nexport type S = typeof send;\n",
  // Two modules loading each other.
  'lib/notify/a.ts': "import { b } from './b';\nexport const a = () => b;\n",
  'lib/notify/b.ts': "import { a } from './a';\nexport const b = () => a;\n",
  // A folder in no layer, and a leaf importing it.
  'lib/extra/x.ts': "import { t } from '../time';\nexport const x = t;\n",
  'lib/time.ts': 'export const t = 1;\n',
  'lib/model.ts': "import type { x } from './extra/x';\nexport type X = typeof x;\n",
  // lib/ importing a local tool.
  'lib/app.ts': "import { stack } from '../local/stack';\nexport const app = stack;\n",
  'local/stack.ts': 'export const stack = 1;\n',
  // What is allowed: poll wiring the layers under it.
  'lib/poll/run.ts': [
    "import { judge } from '../diff/decide';",
    "import { send } from '../outbox/send';",
    "import type { Config } from '../config/types';",
    "import { t } from '../time';",
    'export const run = [judge, send, t];',
    'export type C = Config;',
    '',
  ].join('\n'),
  'lib/config/types.ts': 'export interface Config {\n  a: 1;\n}\n',
};

describe('the dependency rule', () => {
  let found: Violation[];
  beforeAll(() => {
    found = violationsIn(TREE);
  });

  it('refuses an import from a lower layer to a higher one, even of types only', () => {
    expect(found).toContainEqual({
      rule: 'layers: lib/state',
      from: 'lib/state/records.ts',
      to: 'lib/diff/decide.ts',
    });
  });

  it('refuses an import between two folders of the same layer', () => {
    expect(found).toContainEqual({
      rule: 'layers: lib/hss',
      from: 'lib/hss/reader.ts',
      to: 'lib/notify/cards.ts',
    });
  });

  it('refuses two folders that import each other', () => {
    expect(found).toContainEqual(expect.objectContaining({ rule: 'no folder cycles', from: 'lib/notify' }));
  });

  it('refuses modules that load each other at run time', () => {
    expect(found).toContainEqual(
      expect.objectContaining({ rule: 'no runtime cycles', from: 'lib/notify/a.ts' }),
    );
  });

  it('refuses a folder that has no place in the layers, and a leaf importing it', () => {
    expect(found).toEqual(
      expect.arrayContaining([
        { rule: 'layers: every unit has a place', from: 'lib/extra/x.ts', to: 'lib/time.ts' },
        { rule: 'layers: lib/model.ts', from: 'lib/model.ts', to: 'lib/extra/x.ts' },
      ]),
    );
  });

  it('refuses lib/ importing an entry point, a local tool or a test', () => {
    expect(found).toContainEqual({ rule: 'lib is self-contained', from: 'lib/app.ts', to: 'local/stack.ts' });
  });

  it('lets poll wire the layers under it', () => {
    expect(found.filter((v) => v.from.startsWith('lib/poll'))).toEqual([]);
  });
});
