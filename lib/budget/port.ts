// The call budget as its users see it: HSS allows each user a few calls a minute, and every caller
// with the same credential shares them. memory.ts keeps it in one process, dynamodb.ts in the state
// table for every container and stack; both book call starts with window.ts's arithmetic.

/**
 * Call slots per credential, shared by everything that calls HSS with it: warm and cold containers,
 * overlapping invocations and other stacks on the same table (DynamoDB-backed), or one process
 * (in memory, for tests and the CLI without a table).
 */
export interface CallBudget {
  /**
   * Waits (injected sleep) until `credential` may start one more call and claims it; resolves false
   * without claiming when the earliest slot is later than `latestStart` (epoch ms).
   */
  acquire(credential: string, latestStart: number): Promise<boolean>;
  /** HSS throttled this credential anyway (another tool on the same user): hold its calls for `ms`. */
  penalize(credential: string, ms: number): Promise<void>;
  /** Earliest time (epoch ms) a call of `credential` could start, without claiming it (for planning). */
  nextSlot(credential: string): Promise<number>;
}
