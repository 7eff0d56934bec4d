// A dry run is the live poll with the recording effects: polled at the same moment over the same
// state, it lists exactly the messages the live poll records for sending, silences, stuck tasks,
// follow-ups, released silences, reminders and resolutions included.
import type { Silence } from '../../lib/state/records';
import type { Message } from '../../lib/model';
import { DAY, HOUR, MIN, memoryWorld, STUCK_LIFECYCLE, task } from './support';

const describeMessage = (m: Message): string =>
  m.kind === 'alert'
    ? `alert ${m.task.hostId} ${m.status} ${m.reason}`
    : m.kind === 'notice'
      ? `notice ${m.notice}`
      : m.kind === 'resolved' || m.kind === 'reminder'
        ? `${m.kind} ${m.task.hostId}`
        : m.kind;

describe('poll: a dry run', () => {
  it('would send exactly what the live poll at the same moment sends, poll after poll', async () => {
    // Prepare: calls take no time, so the dry and the live poll of a tick run at the same instant.
    const w = memoryWorld({
      hss: { perMinute: 1000, callMs: 0 },
      base: { lifecycle: { ...STUCK_LIFECYCLE, remindAfterHours: 2 } },
    });
    const { vt, hss, lifecycle, outbox } = w;
    const now = vt.clock();
    const silence: Silence = {
      id: 's1',
      hosts: ['web-quiet*'],
      backups: [],
      statuses: [],
      startsAt: now,
      endsAt: now + HOUR,
      reason: 'maintenance',
      createdAt: now,
    };
    await lifecycle.putSilence(silence, now);
    const failed = task('loud', 'failed', now, 10 * MIN);
    const silenced = task('quiet', 'failed', now, 10 * MIN, { hostName: 'web-quiet-1' });
    const slow = task('slow', 'running', now, 10 * MIN, { process: 41 });
    const edge = task('edge', 'running', now, DAY - 20 * MIN);
    const retry = task('loud', 'running', now + 100 * MIN, 0, { process: 10 });
    hss.tasks().push(failed, silenced, slow, edge);

    // Act: every 5 minutes for 4 hours, a dry poll then the live poll, with changes along the way.
    const differences: string[] = [];
    const everything: string[] = [];
    for (let tick = 0; tick < 48; tick++) {
      if (tick === 8)
        Object.assign(edge, {
          status: 'failed',
          rawStatus: 'failed',
          endedAt: new Date(vt.clock()).toISOString(),
        });
      if (tick === 20) hss.tasks().push(retry);
      if (tick === 23) Object.assign(retry, { status: 'success', rawStatus: 'success', process: 100 });
      const before = new Set(outbox.records.keys());
      const dry = await w.run({ dryRun: true });
      await w.run();
      const live = [...outbox.records.values()]
        .filter((r) => !before.has(r.message.id))
        .map((r) => r.message);
      const wouldSend = (dry.wouldSend ?? []).map(describeMessage).sort();
      const sent = live.map(describeMessage).sort();
      if (JSON.stringify(wouldSend) !== JSON.stringify(sent))
        differences.push(`tick ${tick}: dry ${JSON.stringify(wouldSend)} live ${JSON.stringify(sent)}`);
      everything.push(...sent);
      vt.advance(5 * MIN);
    }

    // Assess
    expect(differences).toEqual([]);
    expect(new Set(everything)).toEqual(
      new Set([
        'alert loud failed first-seen',
        'alert slow stuck stuck-no-progress',
        'alert edge stuck stuck-too-long',
        'alert edge failed resolved-after-window',
        'alert quiet failed first-seen',
        'reminder edge',
        'reminder slow',
        'reminder quiet',
        'resolved loud',
      ]),
    );
  });
});
