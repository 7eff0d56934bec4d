// A small test-only sender (render -> sign -> POST -> classify) standing in for the outbox, so the
// conformance suite drives every channel the way production will; injected, so the suite can later
// run through the real outbox instead.
import type { DeliveryOutcome, Message } from '../../../lib/model';
import { classifyNetworkError } from '../../../lib/notify/classify';
import type { ChannelRequest, Destination, RenderContext } from '../../../lib/notify/destination';
import { createPostJson, type PostJson } from '../../../lib/notify/http';

export interface SendReport {
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
