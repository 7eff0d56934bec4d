// Phase 6, deliver: send what is due (this poll's messages and every earlier one still pending)
// until the run's deadline, and say whether the poll left alert lists unread (chat digests then
// say that more may follow).
import { mergeDelivery } from './read';
import type { PollRun } from './run';

export async function deliver(run: PollRun): Promise<void> {
  const { alertStatuses, deadline } = run.options;
  const listsIncomplete = run.summary.left.some((l) => (alertStatuses as readonly string[]).includes(l.list));
  mergeDelivery(run, await run.effects.deliver(deadline, { listsIncomplete }));
}
