// One interface for every configured destination, whatever its channel (lib/notify/channels/): render
// (pure), sign (time-dependent headers/fields, just before sending), classify the answer. The outbox
// owns sending (one POST through the shared HTTP layer), pacing, retries and bookkeeping.
import type { DeliveryOutcome, Message } from '../model';
import type { HttpAnswer } from './http';

/** One HTTP request a channel wants sent; `covers` says which messages of the rendered batch it carries. */
export interface ChannelRequest {
  /** Indexes into the batch passed to `render`; every index appears in exactly one request. */
  covers: number[];
  /** Full URL (a secret: never logged; the outbox logs `Destination.description`). */
  url: string;
  /** Exact body bytes to send, as a UTF-8 string (JSON for every channel today). */
  body: string;
  /** Extra headers (content-type defaults to application/json). */
  headers?: Record<string, string>;
}

/** What a render may know besides the messages. */
export interface RenderContext {
  /** Now, epoch ms (rendered times, never for signing: see `sign`). */
  now: number;
  /**
   * Alert lists of some scope are still being read (an incident bigger than one poll): digests say
   * that more may follow.
   */
  listsIncomplete?: boolean;
  /**
   * The batch releases messages that quiet hours held: chat channels send its alerts (and resolved
   * messages) as one digest however few they are, so a quiet period ends in one message.
   */
  released?: boolean;
}

/** How fast a channel may be sent to; the outbox paces and caps per poll accordingly. */
export interface ChannelLimits {
  /** Minimum ms between two requests to this destination (Slack 1000, Feishu 200, DingTalk 3000). */
  minIntervalMs: number;
  /** Requests allowed per rolling minute (DingTalk/WeCom 20, Feishu 100, Google Chat 60, PagerDuty 120). */
  perMinute: number;
}

/** A configured destination, built from its DestinationConfig. */
export interface Destination {
  /** Stable id: the delivery-state key (`slack`, or the `name` from the destinations file). */
  readonly id: string;
  /** The channel's type (DestinationType). */
  readonly type: string;
  /** Safe to log and show: type, name and the URL cut to scheme + host (`slack https://hooks.slack.com/…`). */
  readonly description: string;
  readonly limits: ChannelLimits;
  /** True when this destination should get `message` (routing: statuses, hosts, backups, enterprise projects). */
  accepts(message: Message): boolean;
  /**
   * Present only on the fallback destination (`fallback: true`): whether its channel takes `message`
   * when no destination's routing matched it (its own routing aside).
   */
  takesUnrouted?(message: Message): boolean;
  /**
   * When quiet hours hold `message` for this destination, the epoch ms they end (the outbox records
   * the delivery `held` until then); undefined = send now. Absent on destinations never held
   * (PagerDuty, webhook, SMN) and on chat destinations without quiet hours.
   */
  holdUntil?(message: Message, now: number): number | undefined;
  /**
   * Pure: turns a batch (oldest first) into requests. Chat channels digest (one request for many
   * alerts or reminders, saying how many and by status, listing the first N); PagerDuty and the
   * webhook send one request per message. Every untrusted string (API text) is neutralised for the
   * channel's markup and every size limit is respected.
   */
  render(batch: readonly Message[], context: RenderContext): ChannelRequest[];
  /** Adds what depends on the send time (Feishu/DingTalk sign, SMN X-Sdk-Date signature, webhook-timestamp). */
  sign?(request: ChannelRequest, now: number): ChannelRequest;
  /**
   * Classifies the answer: 2xx ok unless the body carries the channel's error (Feishu `code` != 0,
   * DingTalk/WeCom `errcode` != 0, a Slack error word); 429/5xx/408 and throttling codes retryable
   * (with `retryAfterMs` when told); other 4xx and refusals permanent.
   */
  classify(answer: HttpAnswer, now: number): DeliveryOutcome;
}
