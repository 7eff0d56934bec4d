// The in-process call budget: one sliding window per credential, for one process (tests, the CLI
// without a table). Containers and stacks that share a credential need lib/budget/dynamodb.ts instead.
import type { Clock, Sleep } from '../log';
import type { CallBudget } from './port';
import { earliestStart, RATE_WINDOW_MS } from './window';

export interface MemoryBudgetOptions {
  /** Call starts allowed per window per credential (HSS: 5 a minute per user); Infinity = no limit (emulators). */
  ratePerMinute: number;
  /** Window length, ms (default 60000). */
  windowMs?: number;
  clock: Clock;
  sleep: Sleep;
}

/** A booked call start; moved with the clock when the clock is stepped back. */
interface Booking {
  at: number;
}

interface CredentialWindow {
  /** Booked starts, ascending: claimed calls and callers sleeping until their slot. */
  bookings: Booking[];
  blockedUntil: number;
  /** The latest clock reading seen: a reading below it means the clock was stepped back. */
  seenAt: number;
}

/**
 * A CallBudget held in this process: at most `ratePerMinute` call starts per credential in any
 * window. A clock stepped back (NTP) moves what is booked with it, so calls are not held back for
 * the length of the step.
 */
export function createMemoryBudget(options: MemoryBudgetOptions): CallBudget {
  const { ratePerMinute: rate, clock, sleep } = options;
  const windowMs = options.windowMs ?? RATE_WINDOW_MS;
  const windows = new Map<string, CredentialWindow>();

  function windowOf(credential: string): CredentialWindow {
    const now = clock();
    let w = windows.get(credential);
    if (!w) windows.set(credential, (w = { bookings: [], blockedUntil: -Infinity, seenAt: now }));
    if (now < w.seenAt) {
      // The calls happened when they did: in the stepped clock they happened that much earlier.
      const step = now - w.seenAt;
      for (const b of w.bookings) b.at += step;
      w.blockedUntil += step;
    }
    w.seenAt = now;
    w.bookings = w.bookings.filter((b) => b.at > now - windowMs);
    return w;
  }

  return {
    async acquire(credential, latestStart) {
      for (;;) {
        const w = windowOf(credential);
        const now = clock();
        const at = earliestStart(
          w.bookings.map((b) => b.at),
          now,
          w.blockedUntil,
          rate,
          windowMs,
        );
        if (at > latestStart) return false;
        // Booked before sleeping, so concurrent callers line up behind it instead of on the same slot.
        const booking: Booking = { at };
        if (rate !== Infinity) {
          const i = w.bookings.findIndex((b) => b.at > at);
          w.bookings.splice(i < 0 ? w.bookings.length : i, 0, booking);
        }
        const unbook = (): void => {
          const i = w.bookings.indexOf(booking);
          if (i >= 0) w.bookings.splice(i, 1);
        };
        try {
          if (at > now) await sleep(at - now);
        } catch (err) {
          unbook();
          throw err;
        }
        // Penalised while it slept: the slot is inside the penalty, so give it up and book again.
        if (windowOf(credential).blockedUntil > booking.at) {
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
      return earliestStart(
        w.bookings.map((b) => b.at),
        clock(),
        w.blockedUntil,
        rate,
        windowMs,
      );
    },
  };
}
