// The deliverer's lease as one run holds it: before each send the loop asks that the lease outlive
// the send (request timeout + margin); the guard renews it when it would not (one renewal at a time,
// however many destinations ask) and says no once it is lost, so an expired lease never lets two
// runs send the same delivery (issue 10 #10).
import type { Clock } from '../log';
import type { OutboxStore } from './store';

export interface LeaseGuard {
  /** True when the lease is ours until at least `until` (renewed if needed); false once it is lost. */
  cover(until: number): Promise<boolean>;
  /** True once a renewal found another owner (or failed): the run must stop sending. */
  readonly lost: boolean;
  /** Lets go (unless lost); a failure to release only delays the next run until the lease expires. */
  release(): Promise<void>;
}

export function createLeaseGuard(deps: {
  store: OutboxStore;
  owner: string;
  clock: Clock;
  leaseMs: number;
  /** When the lease just acquired expires, epoch ms. */
  until: number;
}): LeaseGuard {
  const { store, owner, clock, leaseMs } = deps;
  let until = deps.until;
  let lost = false;
  let renewing: Promise<void> | undefined;

  async function renew(): Promise<void> {
    const now = clock();
    try {
      if (await store.renewLease(owner, now, leaseMs)) until = now + leaseMs;
      else lost = true;
    } catch (err) {
      // Unsure whether it was renewed: stop sending rather than risk a second deliverer.
      lost = true;
      throw err;
    }
  }

  return {
    get lost() {
      return lost;
    },
    async cover(needed) {
      while (!lost && until < needed) {
        if (needed - clock() > leaseMs) return false; // no renewal could cover it
        renewing ??= renew().finally(() => (renewing = undefined));
        await renewing;
      }
      return !lost;
    },
    async release() {
      if (!lost) await store.releaseLease(owner);
    },
  };
}
