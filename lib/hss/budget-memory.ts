// The in-process call budget: one sliding window per credential, for one process (tests, the CLI
// without a table). Containers and stacks that share a credential need lib/state/budget.ts instead.
import type { Clock, Sleep } from '../log';
import type { CallBudget } from './pages';
import { earliestStart, insertSorted, RATE_WINDOW_MS } from './sliding-window';

export interface MemoryBudgetOptions {
  /** Call starts allowed per window per credential (HSS: 5 a minute per user); Infinity = no limit (emulators). */
  ratePerMinute: number;
  /** Window length, ms (default 60000). */
  windowMs?: number;
  clock: Clock;
  sleep: Sleep;
}

interface CredentialWindow {
  /** Booked start times, ascending: claimed calls and callers sleeping until their slot. */
  starts: number[];
  blockedUntil: number;
}

/** A CallBudget held in this process: at most `ratePerMinute` call starts per credential in any window. */
export function createMemoryBudget(options: MemoryBudgetOptions): CallBudget {
  const { ratePerMinute: rate, clock, sleep } = options;
  const windowMs = options.windowMs ?? RATE_WINDOW_MS;
  const windows = new Map<string, CredentialWindow>();

  function windowOf(credential: string): CredentialWindow {
    let w = windows.get(credential);
    if (!w) windows.set(credential, (w = { starts: [], blockedUntil: -Infinity }));
    w.starts = w.starts.filter((t) => t > clock() - windowMs);
    return w;
  }

  return {
    async acquire(credential, latestStart) {
      for (;;) {
        const w = windowOf(credential);
        const now = clock();
        const at = earliestStart(w.starts, now, w.blockedUntil, rate, windowMs);
        if (at > latestStart) return false;
        // Booked before sleeping, so concurrent callers line up behind it instead of on the same slot.
        if (rate !== Infinity) w.starts = insertSorted(w.starts, at);
        const unbook = (): void => {
          const i = w.starts.indexOf(at);
          if (i >= 0) w.starts.splice(i, 1);
        };
        try {
          if (at > now) await sleep(at - now);
        } catch (err) {
          unbook();
          throw err;
        }
        // Penalised while it slept: the slot is inside the penalty, so give it up and book again.
        if (w.blockedUntil > at) {
          unbook();
          continue;
        }
        return true;
      }
    },
    async penalize(credential, ms) {
      if (!(Number.isFinite(ms) && ms > 0)) return;
      const w = windowOf(credential);
      w.blockedUntil = Math.max(w.blockedUntil, clock() + ms);
    },
    async nextSlot(credential) {
      const w = windowOf(credential);
      return earliestStart(w.starts, clock(), w.blockedUntil, rate, windowMs);
    },
  };
}
