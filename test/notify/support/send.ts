// The senders the conformance suite drives every channel with: a small test-only one (render ->
// sign -> POST -> classify), and the product's outbox (recorded on a DynamoDB engine, paced, signed,
// classified and recorded again), so every delivery row holds through the real path too.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { silentLog } from '../../../lib/log';
import type { DeliveryOutcome, Message } from '../../../lib/model';
import { classifyNetworkError } from '../../../lib/notify/classify';
import type { ChannelRequest, Destination, RenderContext } from '../../../lib/notify/destination';
import { createPostJson, type PostJson } from '../../../lib/notify/http';
import { createOutbox } from '../../../lib/outbox';
import { createTableClient } from '../../../lib/state/table-client';

interface SendReport {
  /** One outcome per message of the batch (the outcome of the request that carried it). */
  outcomes: DeliveryOutcome[];
  requests: ChannelRequest[];
}

/** Sends a batch to a destination; `pace` says whether requests are spaced by `limits.minIntervalMs`. */
export type Sender = (
  destination: Destination,
  batch: readonly Message[],
  options?: { context?: Partial<RenderContext>; pace?: boolean },
) => Promise<SendReport>;

/** A sender on a virtual clock: `now()` is read for rendering, signing and classifying; `advance` paces. */
export function createTestSender(deps: {
  now: () => number;
  advance: (ms: number) => void;
  post?: PostJson;
}): Sender {
  const post = deps.post ?? createPostJson();
  return async (destination, batch, options = {}) => {
    const requests = destination.render(batch, { now: deps.now(), ...options.context });
    const outcomes: DeliveryOutcome[] = batch.map(() => ({
      kind: 'retryable',
      error: 'not covered by any request',
    }));
    for (const [n, rendered] of requests.entries()) {
      if (n > 0 && options.pace !== false) deps.advance(destination.limits.minIntervalMs);
      const request = destination.sign ? destination.sign(rendered, deps.now()) : rendered;
      let outcome: DeliveryOutcome;
      try {
        const answer = await post(
          request.url,
          request.body,
          request.headers ? { headers: request.headers } : {},
        );
        outcome = destination.classify(answer, deps.now());
      } catch (err) {
        outcome = classifyNetworkError(err);
      }
      for (const i of request.covers) outcomes[i] = outcome;
    }
    return { outcomes, requests };
  };
}

/** A clock tests move by hand. */
export function virtualClock(start: number): {
  now: () => number;
  advance: (ms: number) => void;
  set: (ms: number) => void;
} {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms), set: (ms) => void (t = ms) };
}

/**
 * The same Sender through the product's one outbox: each batch is enqueued (recorded first, in its
 * own namespace of `tableName`, so batches never dedupe each other) and delivered by one
 * `deliver()` run with the destination and the real HTTP leg, on the virtual clock (pacing sleeps
 * move it). Outcomes are read back from the recorded delivery states: done -> ok, failed ->
 * permanent, pending -> retryable. The outbox always paces: `pace: false` is refused.
 */
/** Namespaces of the outbox sender's batches: unique in the process, whatever sender sent them. */
let outboxBatches = 0;

export function createOutboxSender(deps: {
  now: () => number;
  advance: (ms: number) => void;
  dynamo: DynamoDBClient;
  tableName: string;
}): Sender {
  const post = createPostJson();
  const sleep = async (ms: number) => deps.advance(Math.max(0, ms));
  const table = createTableClient({ client: deps.dynamo, tableName: deps.tableName, sleep });
  return async (destination, batch, options = {}) => {
    if (options.pace === false) throw new Error('the outbox always paces: use the test sender');
    const index = new Map(batch.map((m, i) => [m.id, i]));
    const requests: ChannelRequest[] = [];
    // The destination as the outbox drives it, noting what it rendered (covers as indexes of `batch`).
    const observed: Destination = Object.create(destination) as Destination;
    observed.render = (messages, context) => {
      const rendered = destination.render(messages, context);
      for (const r of rendered)
        requests.push({ ...r, covers: r.covers.map((i) => index.get(messages[i]!.id)!) });
      return rendered;
    };
    const outbox = createOutbox({
      table,
      namespace: `conformance-${++outboxBatches}`,
      destinations: [observed],
      post,
      clock: deps.now,
      sleep,
      log: silentLog,
      random: () => 0.5,
      leaseMs: 60_000,
    });
    await outbox.enqueue(batch);
    await outbox.deliver(deps.now() + 60 * 60_000, {
      ...(options.context?.listsIncomplete ? { listsIncomplete: true } : {}),
    });
    const states = new Map(
      (await outbox.get(batch.map((m) => m.id))).map((r) => [r.message.id, r.deliveries[destination.id]]),
    );
    const outcomes = batch.map((m): DeliveryOutcome => {
      const state = states.get(m.id);
      if (state?.state === 'done') return { kind: 'ok' };
      if (state?.state === 'failed') return { kind: 'permanent', error: state.lastError ?? '' };
      return { kind: 'retryable', error: state?.lastError ?? `not sent (${state?.state ?? 'no delivery'})` };
    });
    return { outcomes, requests };
  };
}
