import { reportFailedPoll } from '../lib/health';
import { poll } from '../lib/poll';
import { createStateStore } from '../lib/state/store';
import { useLocalDynamo } from './support/dynamo';
import { fakeTaskSource, manualClock, MIN, recordingLog, recordingNotifier, SCOPE } from './support/fakes';

const local = useLocalDynamo('health');

async function setup() {
  const tableName = await local.freshTable();
  const clock = manualClock();
  const store = createStateStore({ client: local.dynamo().client, tableName });
  const slack = recordingNotifier('slack');
  const webhook = recordingNotifier('webhook');
  const log = recordingLog();
  const deps = { store, notifiers: [slack, webhook], clock: clock.now, log };
  return { clock, store, slack, webhook, log, deps };
}

const OPTIONS = { scope: SCOPE, lastDays: 1, alertStatuses: ['failed', 'timeout'] as const };

describe('blind-spot alarm', () => {
  it('sends one "not working" notice after three failed polls in a row, not one per tick', async () => {
    // Prepare
    const { deps, slack, webhook, clock } = await setup();
    // Act
    for (let i = 0; i < 6; i++) {
      await reportFailedPoll(deps, SCOPE, new Error('HssAuthError: 401 APIGW.0301'));
      clock.advance(5 * MIN);
    }
    // Assess
    expect(slack.notices.map((x) => x.kind)).toEqual(['monitoring-down']);
    expect(webhook.notices).toHaveLength(1);
    expect(slack.notices[0]!.detail).toContain('APIGW.0301');
  });

  it('stays quiet when fewer polls than the threshold failed, and forgets them after a success', async () => {
    const { deps, slack, clock } = await setup();
    const hss = fakeTaskSource(clock.now);
    await reportFailedPoll(deps, SCOPE, new Error('HSS 503'));
    await reportFailedPoll(deps, SCOPE, new Error('HSS 503'));
    await poll({ ...deps, hss }, OPTIONS);
    await reportFailedPoll(deps, SCOPE, new Error('HSS 503'));
    await reportFailedPoll(deps, SCOPE, new Error('HSS 503'));
    expect(slack.notices).toEqual([]);
  });

  it('sends one "recovered" notice when polling works again, and then writes nothing more', async () => {
    const { deps, slack, clock } = await setup();
    const hss = fakeTaskSource(clock.now);
    for (let i = 0; i < 3; i++) await reportFailedPoll(deps, SCOPE, new Error('throttled'));
    const recovered = await poll({ ...deps, hss }, OPTIONS);
    clock.advance(5 * MIN);
    const steady = await poll({ ...deps, hss }, OPTIONS);
    expect(slack.notices.map((x) => x.kind)).toEqual(['monitoring-down', 'monitoring-recovered']);
    expect(recovered.writeCapacity).toBeGreaterThan(0);
    expect(steady.writeCapacity).toBe(0);
  });

  it('sends the notice once when several failing polls run at once', async () => {
    const { deps, slack } = await setup();
    await Promise.all(Array.from({ length: 6 }, () => reportFailedPoll(deps, SCOPE, new Error('down'))));
    expect(slack.notices).toHaveLength(1);
  });

  it('logs, and does not throw, when the failure itself cannot be recorded', async () => {
    const { deps, log } = await setup();
    const broken = {
      ...deps,
      store: { ...deps.store, recordFailure: () => Promise.reject(new Error('DynamoDB down')) },
    };
    await expect(reportFailedPoll(broken, SCOPE, new Error('x'))).resolves.toBeUndefined();
    expect(log.lines.some((l) => l.level === 'error' && l.message.includes('DynamoDB down'))).toBe(true);
  });
});
