// Virtual time for code that sleeps while other code runs: time moves only when every actor (a
// concurrent task started with `run`) is asleep, to the earliest wake-up, so concurrent callers of
// a budget interleave exactly as they would in real time however slow the machine, with no real
// waiting. Each actor must sleep at most once at a time (sequential code inside an actor).

export interface VirtualTime {
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Every sleep requested, in order, ms. */
  sleeps: number[];
  /** Runs `actors` concurrently on virtual time; resolves with their results once all are done. */
  run<T>(...actors: Array<() => Promise<T>>): Promise<T[]>;
}

export function virtualTime(start: number): VirtualTime {
  let now = start;
  let active = 0;
  let seq = 0;
  const timers: Array<{ at: number; seq: number; wake: () => void }> = [];
  const sleeps: number[] = [];

  function advanceWhenAllAsleep(): void {
    // Outside any actor (a test awaiting directly) sleeps are taken at once, like a plain fake.
    if (timers.length === 0 || (active > 0 && timers.length < active)) return;
    timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    now = Math.max(now, timers[0]!.at);
    const due = timers.filter((t) => t.at <= now);
    timers.splice(0, due.length);
    for (const t of due) t.wake();
  }

  return {
    clock: () => now,
    sleeps,
    sleep(ms) {
      sleeps.push(ms);
      return new Promise<void>((wake) => {
        timers.push({ at: now + Math.max(0, ms), seq: seq++, wake });
        advanceWhenAllAsleep();
      });
    },
    async run(...actors) {
      active += actors.length;
      return Promise.all(
        actors.map(async (actor) => {
          try {
            return await actor();
          } finally {
            active -= 1;
            advanceWhenAllAsleep();
          }
        }),
      );
    },
  };
}
