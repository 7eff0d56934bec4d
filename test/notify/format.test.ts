import type { Alert } from '../../lib/diff/alert';
import { formatUtc, hssConsoleUrl, statusText, transitionText } from '../../lib/notify/format';

function alertWith(
  status: Alert['status'],
  previousStatus?: Alert['status'],
  rawStatus: string = status,
): Alert {
  return {
    id: 'a1',
    scope: { projectId: 'p', enterpriseProjectId: '0' },
    task: {
      hostId: 'h',
      hostName: 'n',
      backupName: 'b',
      status,
      rawStatus,
      startedAt: '2025-03-06T05:26:18Z',
    },
    status,
    previousStatus,
    reason: previousStatus ? 'moved' : 'first-seen',
    detectedAt: 0,
  };
}

describe('transitionText', () => {
  it.each([
    [alertWith('failed', 'running'), 'running → failed', 'a change shows where it came from'],
    [alertWith('timeout'), 'first seen timeout', 'no earlier status: say it was first seen so'],
    [
      alertWith('unknown', 'waiting', 'paused'),
      'waiting → unknown (paused)',
      'undocumented statuses show the raw value',
    ],
  ])('%#: %s (%s)', (alert, expected) => {
    expect(transitionText(alert)).toBe(expected);
  });

  it('statusText leaves documented statuses alone', () => {
    expect(statusText('failed', 'failed')).toBe('failed');
  });
});

describe('formatUtc', () => {
  it.each([
    ['2025-03-06T05:26:18Z', '2025-03-06 05:26:18 UTC', 'the API example format'],
    ['2025-03-06T13:26:18+08:00', '2025-03-06 05:26:18 UTC', 'offsets are converted to UTC'],
    [
      '2025-03-06 13:26:18.123+0800',
      '2025-03-06 05:26:18 UTC',
      'space separator, fraction and compact offset',
    ],
    ['1741238778000', '2025-03-06 05:26:18 UTC', 'epoch milliseconds as digits'],
    ['1741238778', '2025-03-06 05:26:18 UTC', 'epoch seconds as digits'],
    ['2025-03-06 05:26:18', '2025-03-06 05:26:18', 'no zone: ambiguous, shown as sent'],
    ['yesterday', 'yesterday', 'unparseable text is returned as is'],
    ['2025-13-45T99:00:00Z', '2025-13-45T99:00:00Z', 'impossible dates are returned as is'],
  ])('%j -> %j (%s)', (input, expected) => {
    expect(formatUtc(input)).toBe(expected);
  });

  it('formats epoch ms given as a number', () => {
    expect(formatUtc(Date.UTC(2025, 2, 6, 5, 26, 18))).toBe('2025-03-06 05:26:18 UTC');
  });
});

describe('hssConsoleUrl', () => {
  it.each([
    [
      { region: 'ap-southeast-1' },
      'https://console.huaweicloud.com/hss/?region=ap-southeast-1&locale=en-us#/hss/ransomware/backup',
    ],
    [
      { region: 'eu-west-101' },
      'https://console.eu.huaweicloud.com/hss/?region=eu-west-101&locale=en-us#/hss/ransomware/backup',
    ],
    [{}, undefined],
    [{ region: 'cn-north-4|<!channel>' }, undefined],
  ])('%j -> %s', (scope, expected) => {
    expect(hssConsoleUrl(scope)).toBe(expected);
  });
});
