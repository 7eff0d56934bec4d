// What each channel's payload must look like beyond the conformance suite: colours, threads, mention
// guards, byte limits measured as the vendor measures them.
import type { DestinationConfig } from '../../../lib/notify/channels';
import type { Message } from '../../../lib/model';
import { createDestination } from '../../../lib/notify/channels';
import { slackText } from '../../../lib/notify/channels/slack';
import { teamsText } from '../../../lib/notify/channels/teams';
import type { Destination } from '../../../lib/notify/destination';
import { alert, burst, notice, resolved, T0 } from '../support/messages';

const make = (config: Omit<DestinationConfig, 'name' | 'routing'> & Record<string, unknown>): Destination =>
  createDestination({ name: config.type, routing: {}, ...config } as DestinationConfig, {
    credentials: { default: { kind: 'token', token: 't' } },
  });
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- payloads are read field by field in the assertions
const body = (d: Destination, batch: Message[], listsIncomplete = false): Record<string, any> =>
  JSON.parse(d.render(batch, { now: T0, listsIncomplete })[0]!.body);
const CJK = '备份恢复失败：保管库不可达。'.repeat(400);

describe('Feishu card', () => {
  const feishu = make({ type: 'feishu', url: 'https://open.feishu.cn/open-apis/bot/v2/hook/x' });
  it.each([
    [alert(1), 'red'],
    [alert(1, { status: 'timeout' }), 'orange'],
    [resolved(1), 'green'],
  ])('colours the header of %# %s', (message, template) => {
    expect(body(feishu, [message]).card.header.template).toBe(template);
  });

  it('puts API text only into plain_text elements', () => {
    const tags = JSON.stringify(body(feishu, [alert(1)])).match(/"tag":"[a-z_]+"/g);
    expect(new Set(tags)).toEqual(
      new Set(['"tag":"plain_text"', '"tag":"div"', '"tag":"hr"', '"tag":"button"']),
    );
  });
});

describe('DingTalk markdown', () => {
  it('never mentions everyone', () => {
    const dingtalk = make({ type: 'dingtalk', url: 'https://oapi.dingtalk.com/robot/send?access_token=x' });
    expect(body(dingtalk, [alert(1)]).at).toEqual({ isAtAll: false });
  });
});

describe('WeCom markdown', () => {
  it('keeps the content within 4,096 BYTES when the error is Chinese text (3 bytes a character)', () => {
    const wecom = make({ type: 'wecom', url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x' });
    const content = body(wecom, burst(60, CJK)).markdown.content as string;
    expect(Buffer.byteLength(content)).toBeLessThanOrEqual(4096);
    expect(content).toContain('60 restore/backup tasks need attention');
  });
});

describe('Google Chat', () => {
  const chat = make({
    type: 'googlechat',
    url: 'https://chat.googleapis.com/v1/spaces/S/messages?key=k&token=t',
  });
  it('threads a single alert and its resolution by task, and lets a digest start its own thread', () => {
    const [a, r] = [body(chat, [alert(1)]), body(chat, [resolved(1)])];
    expect([a.thread, r.thread, body(chat, burst(8)).thread]).toEqual([
      { threadKey: 'task-ref-1' },
      { threadKey: 'task-ref-1' },
      undefined,
    ]);
    expect(new URL(chat.render([alert(1)], { now: T0 })[0]!.url).searchParams.get('messageReplyOption')).toBe(
      'REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD',
    );
  });

  it('stays within 32,000 bytes with Chinese text', () => {
    expect(Buffer.byteLength(chat.render(burst(60, CJK), { now: T0 })[0]!.body)).toBeLessThanOrEqual(32_000);
  });
});

describe('Discord', () => {
  const discord = make({ type: 'discord', url: 'https://discord.com/api/webhooks/1/t' });
  it('forbids every mention and asks for the message back', () => {
    const [request] = discord.render([alert(1)], { now: T0 });
    expect(JSON.parse(request!.body).allowed_mentions).toEqual({ parse: [] });
    expect(new URL(request!.url).searchParams.get('wait')).toBe('true');
  });

  it('keeps the embed within 6,000 characters for a 60-alert batch of long errors', () => {
    const embed = body(discord, burst(60, 'x'.repeat(4000))).embeds[0];
    const total =
      embed.title.length +
      embed.description.length +
      embed.footer.text.length +
      embed.fields.reduce(
        (n: number, f: { name: string; value: string }) => n + f.name.length + f.value.length,
        0,
      );
    expect(total).toBeLessThanOrEqual(6000);
  });

  it('keeps the console link whole when the description is cut (API text cannot close a cut link)', () => {
    const description: string = body(discord, [
      alert(1, {}, { hostName: 'h)'.repeat(600), errorMessage: 'x'.repeat(4000) }),
    ]).embeds[0].description;
    expect(description).toMatch(/\[[^\]]+\]\(https:\/\/console\.huaweicloud\.com\/[^\s()]+\)$/);
  });
});

describe('SMN', () => {
  const smn = make({
    type: 'smn',
    topicUrn: 'urn:smn:cn-north-4:p:t',
    endpoint: 'https://smn.cn-north-4.myhuaweicloud.com',
    projectId: 'p',
    credential: 'default',
  });
  it('sends a subject within 512 bytes and an SMS within 490 characters without [] or 【】', () => {
    const b = body(smn, [alert(1, {}, { hostName: `【${CJK}】[x]` })]);
    const structure = JSON.parse(b.message_structure);
    expect(Buffer.byteLength(b.subject)).toBeLessThanOrEqual(512);
    expect(structure.sms.length).toBeLessThanOrEqual(490);
    expect(structure.sms).not.toMatch(/[[\]【】]/);
    expect(typeof structure.default).toBe('string');
    expect(structure.email).toContain('HSS error HSS.0102');
  });
});

describe('Teams', () => {
  it('sends an Adaptive Card 1.4 with a console button, and says in the digest that more may follow', () => {
    const teams = make({ type: 'teams', url: 'https://prod.westus.logic.azure.com/workflows/x' });
    const content = body(teams, burst(60), true).attachments[0].content;
    expect(content).toMatchObject({
      type: 'AdaptiveCard',
      version: '1.4',
      actions: [{ type: 'Action.OpenUrl' }],
    });
    expect(JSON.stringify(content.body)).toContain('more may follow');
  });

  it('escapes Markdown so a name cannot become a link or bold', () => {
    expect(teamsText('[x](https://evil) *b* _i_')).toBe('\\[x\\]\\(https\\[:\\]//evil\\) \\*b\\* \\_i\\_');
  });
});

describe('Slack', () => {
  it('escapes & < > and replaces the characters that would break code spans and bold', () => {
    expect(slackText('a & b `c` *d* _e_ ~f~')).toBe('a &amp; b ˋcˋ ∗d∗ ˍeˍ ∼f∼');
  });
});

describe('quiet hours', () => {
  const quietHours = { start: '22:00', end: '07:00', timeZone: 'UTC' };
  const at23 = Date.UTC(2026, 10, 29, 23, 0);
  it.each<
    [string, Omit<DestinationConfig, 'name' | 'routing'> & Record<string, unknown>, number | undefined]
  >([
    ['slack', { type: 'slack', url: 'https://hooks.slack.com/x' }, Date.UTC(2026, 10, 30, 7, 0)],
    ['feishu', { type: 'feishu', url: 'https://open.feishu.cn/x' }, Date.UTC(2026, 10, 30, 7, 0)],
    [
      'pagerduty',
      {
        type: 'pagerduty',
        routingKey: 'k',
        eventsUrl: 'https://events.pagerduty.com/v2/enqueue',
        severity: {},
      },
      undefined,
    ],
    ['webhook', { type: 'webhook', url: 'https://example.com/h' }, undefined],
  ])(
    '%s holds chat messages until the quiet period ends, and never pages or webhooks',
    (_type, config, until) => {
      const d = createDestination(
        { name: config.type, routing: { quietHours }, ...config } as DestinationConfig,
        { credentials: {} },
      );
      expect(d.holdUntil?.(notice('test'), at23)).toBe(until);
    },
  );
});
