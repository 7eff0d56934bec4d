// Clips every string of a JSON text as it arrives, chunk by chunk, so an answer whose records carry
// megabytes of text never has to be held whole: one huge error message must not make a page too big
// to read and blind the scope (the page's other records lose nothing). The output is the same JSON
// with each string longer than `maxChars` cut at a character boundary (never inside an escape) and
// ended by a marker naming how much was dropped and a hash of the dropped text, so two long values
// that share a start stay apart. Parsing (parse.ts) then clips each field to its own, smaller limit.
import { createHash, type Hash } from 'node:crypto';

export interface JsonClipper {
  /** The clipped text of the next chunk (JSON text only: decode bytes to text first). */
  push(chunk: string): string;
}

/** Longest string kept on arrival, characters (an escape sequence counts as one): above every field limit. */
const ARRIVAL_MAX_CHARS = 4096;

/** The marker that ends a string clipped on arrival. */
export function arrivalMarker(dropped: number, hash: string): string {
  return `… [${dropped} more characters on arrival, #${hash}]`;
}

export function createJsonClipper(maxChars: number = ARRIVAL_MAX_CHARS): JsonClipper {
  let inString = false;
  /** Characters kept of the current string (an escape sequence counts one). */
  let count = 0;
  /** Dropping the rest of the current string; the hash covers the dropped source text. */
  let dropped: Hash | undefined;
  let droppedChars = 0;
  /** Inside an escape: -1 just after the backslash, n > 0 hex digits of \uXXXX still to come. */
  let escape = 0;

  function push(s: string): string {
    const out: string[] = [];
    const emit = (text: string): void => {
      if (dropped === undefined) out.push(text);
      else dropped.update(text);
    };
    // The next `"` and `\` at or after i, found once each and kept: a string of a million escapes
    // must not rescan the chunk for every escape.
    let quoteAt = -2;
    let slashAt = -2;
    const nextSpecial = (from: number): number => {
      if (quoteAt !== -1 && quoteAt < from) quoteAt = s.indexOf('"', from);
      if (slashAt !== -1 && slashAt < from) slashAt = s.indexOf('\\', from);
      if (quoteAt < 0) return slashAt;
      if (slashAt < 0) return quoteAt;
      return Math.min(quoteAt, slashAt);
    };
    /** From `from` inside a dropped string: the index of its closing quote, or the chunk's end (an escape may stay open). */
    const skipDropped = (from: number): number => {
      let at = from;
      for (;;) {
        const next = nextSpecial(at);
        if (next < 0) {
          droppedChars += s.length - at;
          return s.length;
        }
        droppedChars += next - at;
        if (s[next] === '"') return next;
        droppedChars += 1;
        const kind = next + 1;
        if (kind >= s.length) {
          escape = -1;
          return s.length;
        }
        if (s[kind] !== 'u') {
          at = kind + 1;
          continue;
        }
        if (kind + 5 > s.length) {
          escape = 4 - (s.length - kind - 1);
          return s.length;
        }
        at = kind + 5;
      }
    };
    let i = 0;
    while (i < s.length) {
      if (!inString) {
        if (quoteAt !== -1 && quoteAt < i) quoteAt = s.indexOf('"', i);
        const quote = quoteAt;
        if (quote < 0) {
          out.push(s.slice(i));
          break;
        }
        out.push(s.slice(i, quote + 1));
        inString = true;
        count = 0;
        i = quote + 1;
        continue;
      }
      if (escape === -1) {
        emit(s[i]!);
        escape = s[i] === 'u' ? 4 : 0;
        i += 1;
        continue;
      }
      if (escape > 0) {
        const take = Math.min(escape, s.length - i);
        emit(s.slice(i, i + take));
        escape -= take;
        i += take;
        continue;
      }
      if (dropped !== undefined) {
        // Dropping: run to the closing quote, counting characters, and hash the run in one update.
        const from = i;
        i = skipDropped(i);
        dropped.update(s.slice(from, i));
        if (i < s.length) {
          out.push(arrivalMarker(droppedChars, dropped.digest('hex').slice(0, 8)), '"');
          dropped = undefined;
          inString = false;
          i += 1;
        }
        continue;
      }
      // Keeping: plain characters up to the limit, then the next quote or escape.
      const next = nextSpecial(i);
      const end = next < 0 ? s.length : next;
      if (count + (end - i) > maxChars) {
        let keep = maxChars - count;
        // Never end the kept text between the two halves of a surrogate pair.
        if (keep > 0 && isHighSurrogate(s.charCodeAt(i + keep - 1))) keep -= 1;
        out.push(s.slice(i, i + keep));
        count += keep;
        i += keep;
        dropped = createHash('sha256');
        droppedChars = 0;
        continue;
      }
      out.push(s.slice(i, end));
      count += end - i;
      if (next < 0) break;
      i = next + 1;
      if (s[next] === '"') {
        out.push('"');
        inString = false;
        continue;
      }
      // A backslash starts one escaped character: kept whole, or dropped whole from here on.
      escape = -1;
      if (count >= maxChars) {
        dropped = createHash('sha256').update('\\');
        droppedChars = 1;
        continue;
      }
      out.push('\\');
      count += 1;
    }
    return out.join('');
  }

  return { push };
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
