// Strings clipped on arrival: the JSON stays JSON, short strings and everything else pass unchanged,
// long strings keep their start and say what was dropped, and where the chunks split never matters.
import fc from 'fast-check';
import { arrivalMarker, createJsonClipper } from '../../lib/hss/clip-json';

/** `text` cut into pieces at `cuts` (positions, any order), clipped piece by piece. */
function clipInPieces(text: string, cuts: number[], maxChars: number): string {
  const clipper = createJsonClipper(maxChars);
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  let out = '';
  let from = 0;
  for (const to of [...points, text.length]) {
    out += clipper.push(text.slice(from, to));
    from = to;
  }
  return out;
}

/** Every string of a parsed value, keys included, in document order. */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [k, ...stringsOf(v)]);
  }
  return [];
}

const jsonValue = fc.jsonValue({ maxDepth: 3 });
/** The marker a clipped string ends with. */
const MARKER = /… \[\d+ more characters on arrival, #[0-9a-f]{8}\]$/;

describe('clipping JSON strings on arrival', () => {
  it('changes nothing when every string fits, however the text is cut into chunks', () => {
    fc.assert(
      fc.property(jsonValue, fc.array(fc.nat()), (value, cuts) => {
        const text = JSON.stringify(value);
        expect(clipInPieces(text, cuts, 1_000_000)).toBe(text);
      }),
    );
  });

  it('keeps valid JSON, the same shape and each long string start, and the chunking never matters', () => {
    fc.assert(
      fc.property(jsonValue, fc.array(fc.nat()), fc.integer({ min: 1, max: 8 }), (value, cuts, max) => {
        const text = JSON.stringify(value);
        const whole = clipInPieces(text, [], max);
        expect(clipInPieces(text, cuts, max)).toBe(whole);
        const before = stringsOf(value);
        const after = stringsOf(JSON.parse(whole));
        expect(after).toHaveLength(before.length);
        // Each string as clipped, against what its length says it must be: unchanged when it fits,
        // else its first `max` (or `max - 1`, not to split a pair) characters and the marker.
        const outcome = (clipped: string, original: string) => {
          const at = clipped.search(MARKER);
          const kept = at < 0 ? clipped : clipped.slice(0, at);
          return {
            unchanged: clipped === original,
            marked: at >= 0,
            keptIsStart: original.startsWith(kept),
            keptFits: kept.length <= max && kept.length >= Math.min(original.length, max - 1),
          };
        };
        expect(after.map((clipped, i) => outcome(clipped, before[i]!))).toEqual(
          before.map((original) => ({
            unchanged: original.length <= max,
            marked: original.length > max,
            keptIsStart: true,
            keptFits: true,
          })),
        );
      }),
    );
  });

  it('never cuts inside an escape or between the halves of a surrogate pair', () => {
    const text = JSON.stringify({ a: '\u0000\u0001"\\😀😀\n' });
    for (let max = 1; max <= 8; max++) {
      const parsed = JSON.parse(clipInPieces(text, [], max)) as { a: string };
      const kept = parsed.a.slice(0, parsed.a.indexOf('… ['));
      expect('\u0000\u0001"\\😀😀\n'.startsWith(kept)).toBe(true);
      expect(/[\uD800-\uDBFF]$/.test(kept)).toBe(false);
    }
  });

  it('names how much was dropped and keeps long values that share a start apart', () => {
    const clip = (s: string) => (JSON.parse(clipInPieces(JSON.stringify([s]), [], 4)) as string[])[0];
    const a = clip('abcd' + 'x'.repeat(1000));
    const b = clip('abcd' + 'x'.repeat(999) + 'y');
    expect(a?.startsWith('abcd… [1000 more characters on arrival, #')).toBe(true);
    expect(a).not.toBe(b);
    expect(arrivalMarker(3, '0123abcd')).toBe('… [3 more characters on arrival, #0123abcd]');
  });

  it('bounds a megabyte of escapes to the kept characters, quickly and in one pass', () => {
    const text = JSON.stringify({ message: '\u0000'.repeat(1_000_000), ok: 'yes' });
    const out = clipInPieces(text, [65_536, 131_072, 3_000_001], 100);
    const parsed = JSON.parse(out) as { message: string; ok: string };
    expect(parsed.ok).toBe('yes');
    expect(parsed.message.startsWith('\u0000'.repeat(100) + '… [999900 more characters')).toBe(true);
    expect(out.length).toBeLessThan(1000);
  });
});
