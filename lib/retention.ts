// Moved: expiry rules live in lib/state/layout.ts, time constants in lib/time.ts.
export { MAX_WINDOW_DAYS, RETENTION, ttlAfter } from './state/layout';
export { DAY_MS, HOUR_MS } from './time';
