// `test-notify`: one TEST notice through the outbox, then one line per destination saying what
// happened and why (see test-notice.ts).
import type { App } from '../lib/app';
import { sendTestNotice } from './test-notice';

/** Sends one TEST notice to every destination and prints each one's outcome; 1 unless every destination got it. */
export async function testNotifyCommand(app: App, out: (line: string) => void): Promise<number> {
  let missed = 0;
  for (const { destination, outcome } of await sendTestNotice(app)) {
    if (!outcome.delivered) missed += 1;
    out(`${destination.description}: ${outcome.text}`);
  }
  return missed > 0 ? 1 : 0;
}
