import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { main } from '../../cli/main';

async function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { env: {}, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('hss-restore-alerts --help', () => {
  it.each([[['--help']], [['-h']], [['help']], [['doctor', '--help']], [['poll', '-h']]])(
    'prints the usage on stdout and exits 0 for %j, touching nothing',
    async (argv) => {
      const result = await cli(argv);
      expect(result).toMatchObject({ code: 0, err: [] });
      expect(result.out).toHaveLength(1);
      expect(result.out[0]).toMatch(/^Usage: hss-restore-alerts <command>/);
      expect(result.out[0]).toMatch(/\n {2}doctor \[--package DIR\] \[--send-test\]\n/);
    },
  );

  it('prints the usage and exits 2 when no command is given', async () => {
    const result = await cli([]);
    expect(result.code).toBe(2);
    expect(result.out[0]).toMatch(/^Usage: /);
  });

  it('exits 0 from the installed bin with --help (a shell sees success)', async () => {
    const { stdout } = await promisify(execFile)('node', ['bin/hss-restore-alerts.js', '--help'], {
      cwd: `${__dirname}/../..`,
    });
    expect(stdout).toMatch(/^Usage: hss-restore-alerts <command>/);
  });
});
