import { readFileSync } from 'node:fs';
import { documentRows } from '../support/generated-table';
import { parseConfig, type SsmParameters } from '../../lib/config';
import { VARIABLES } from '../../lib/config/variables';
import { MINIMAL, PD_KEY } from './fixtures';
import { DESTINATIONS_SECTION, VARIABLES_SECTION } from './docs-tables';
import { CHANNELS } from '../../lib/notify/channels';

const configuration = readFileSync(VARIABLES_SECTION.file, 'utf8');

/** The first fenced block of `language` after `heading` in docs/configuration.md. */
function example(heading: string, language: string): string {
  const at = configuration.indexOf(heading);
  if (at < 0) throw new Error(`no ${heading} in docs/configuration.md`);
  const section = configuration.slice(at);
  const m = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(section);
  if (!m) throw new Error(`no ${language} example under ${heading}`);
  return m[1]!;
}

describe('the configuration and destinations docs', () => {
  it('lists every variable of the table, as the table describes it, and no other', () => {
    // Assess: `npx tsx test/config/docs-tables.ts && npx prettier --write docs` fixes a mismatch.
    expect(documentRows(VARIABLES_SECTION)).toEqual(VARIABLES_SECTION.rows());
    expect(VARIABLES_SECTION.rows()).toHaveLength(Object.keys(VARIABLES).length);
  });

  it('lists every channel, as its spec describes it, and no other', () => {
    // Assess: `npx tsx test/config/docs-tables.ts && npx prettier --write docs` fixes a mismatch.
    expect(documentRows(DESTINATIONS_SECTION)).toEqual(DESTINATIONS_SECTION.rows());
    expect(DESTINATIONS_SECTION.rows().map((row) => row[0])).toEqual(CHANNELS.map((c) => `\`${c.type}\``));
  });

  it('shows a destinations file that parses into the destinations it describes', () => {
    // Prepare: the SSM parameters the example names.
    const secure = (value: string) => ({ value, type: 'SecureString' });
    const parameters: SsmParameters = {
      '/hss-restore-alerts/prod/slack-web': secure('https://hooks.slack.com/services/T1/B1/web'),
      '/hss-restore-alerts/prod/slack-dba': secure('https://hooks.slack.com/services/T1/B2/dba'),
      '/hss-restore-alerts/prod/teams': secure('https://prod-1.westeurope.logic.azure.com/workflows/x?sig=y'),
      '/hss-restore-alerts/prod/feishu': secure('https://open.feishu.cn/open-apis/bot/v2/hook/z'),
      '/hss-restore-alerts/prod/feishu-secret': secure('feishuSignSecret'),
      '/hss-restore-alerts/prod/pagerduty-key': secure(PD_KEY),
      '/hss-restore-alerts/prod/acme-ak': secure('ACMEAK0000000000'),
      '/hss-restore-alerts/prod/acme-sk': secure('ACMESK0000000000'),
      '/hss/destinations': { value: example('## Destinations file', 'yaml'), type: 'String' },
    };
    const { HSS_REGION: _r, HSS_PROJECT_ID: _p, SLACK_WEBHOOK_URL: _s, ...env } = MINIMAL;
    // Act
    const config = parseConfig({ ...env, DESTINATIONS_FILE_PARAM: '/hss/destinations' }, { parameters });
    // Assess
    expect(config.destinations.map((d) => `${d.type}:${d.name}`)).toEqual([
      'slack:web-team',
      'slack:dba',
      'teams:teams',
      'feishu:feishu',
      'pagerduty:pagerduty',
      'smn:smn',
    ]);
    expect(config.scopes.map((s) => s.credential)).toEqual(['default', 'acme']);
  });

  it('shows an HSS_SCOPES example that parses', () => {
    const line = example('## Scopes and credentials', 'sh')
      .split('\n')
      .find((l) => l.startsWith('HSS_SCOPES='))!;
    const { HSS_REGION: _r, HSS_PROJECT_ID: _p, ...env } = MINIMAL;
    const config = parseConfig({
      ...env,
      HSS_SCOPES: line.slice('HSS_SCOPES='.length),
      CLOUD_SDK_AK__ACME: 'ACMEAK0000000000',
      CLOUD_SDK_SK__ACME: 'ACMESK0000000000',
    });
    expect(config.scopes).toHaveLength(2);
  });
});
