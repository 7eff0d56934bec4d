// Making API text inert, for every channel: what HSS (or a receiver) wrote can neither ping, link,
// format, hide nor reorder what people read. `inert` is the common base; each channel then escapes its
// own markup on top (`lookalike` for markups without an escape), and `clip` cuts text to a limit.

// ANSI/VT escape sequences (CSI ... final byte, OSC ... BEL/ST, and two-byte ESC forms).
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)|[@-Z\\-_])/g;
// Characters that are invisible or turn the text around them: the line and paragraph separators
// (U+2028, U+2029: a line break in most clients) and the bidi controls, marks (LRM, RLM, ALM),
// embeddings and overrides (LRE, RLE, PDF, LRO, RLO) and isolates (LRI, RLI, FSI, PDI), which can make
// `exe.txt` read as `txt.exe` or a host name read as another.
const INVISIBLE = '\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069';
const INVISIBLE_RE = new RegExp(`[${INVISIBLE}]`, 'g');
// Every other control character (C0, DEL, C1) and the invisible ones above.
const CONTROL = new RegExp(`[\\u0000-\\u001f\\u007f-\\u009f${INVISIBLE}]+`, 'g');
// No word boundary before the scheme or `www.`: `_https://x` and `_www.x` are auto-linked all the
// same once a channel escapes the `_` (a look-alike, a backslash) and so makes a boundary there.
const URL_SCHEME = /([a-z][a-z0-9+.-]{0,30}):\/\//gi;
const WWW = /www\./gi;
// `@everyone`, `@here`, `@all`, `@channel`: defused with a zero-width space so no channel reads a mention.
const AT_WORD = /@(?=[\p{L}\p{N}_])/gu;

/**
 * `text` with each character that is invisible or changes the direction of the text around it
 * (line/paragraph separator, bidi mark, embedding, override, isolate) replaced by a space; every
 * other character as it was. Safe on serialised JSON (those characters only ever occur inside its
 * strings), so it applies to whole request bodies.
 */
export function visibleOnly(text: string): string {
  return text.replace(INVISIBLE_RE, ' ');
}

/**
 * API text made inert for any reader: escape sequences removed, control characters (the invisible
 * and direction-changing ones of visibleOnly too) and newlines turned into spaces, `scheme://` broken into `scheme[:]//` and `www.` into `www[.]` (no channel
 * auto-links them), `<` and `>` replaced by the look-alikes `‹ ›` (no `<!channel>`, `<at id=all>`,
 * `<users/all>`, `<@U1>` or `<url|label>` in any markup, nor once a page is forwarded to chat), and
 * a zero-width space after `@` (no `@all`/`@everyone` mention). Channels then escape their own
 * markup characters on top.
 */
export function inert(text: string): string {
  return text
    .replace(ANSI, '')
    .replace(CONTROL, ' ')
    .replace(/ {2,}/g, ' ')
    .replace(URL_SCHEME, '$1[:]//')
    .replace(WWW, 'www[.]')
    .replace(/</g, '‹')
    .replace(/>/g, '›')
    .replace(AT_WORD, '@\u200b');
}

/** Characters replaced by look-alikes in channels whose markdown has no documented escape (DingTalk, WeCom, Google Chat text). */
const LOOKALIKES: Readonly<Record<string, string>> = {
  '[': '［',
  ']': '］',
  '<': '‹',
  '>': '›',
  '*': '∗',
  _: 'ˍ',
  '~': '∼',
  '`': 'ˋ',
  '#': '＃',
  '|': '│',
};

/**
 * Replaces each of `chars` (a subset of `[ ] < > * _ ~ \` # |`) in `text` with its look-alike. An `_`
 * between two letters or digits (`autobk_web-03`) is kept: it cannot open or close emphasis, and
 * names with underscores are common and copied from alerts.
 */
export function lookalike(text: string, chars: string): string {
  const cs = [...text];
  let out = '';
  cs.forEach((c, i) => {
    const intraword =
      c === '_' && /[\p{L}\p{N}]/u.test(cs[i - 1] ?? '') && /[\p{L}\p{N}]/u.test(cs[i + 1] ?? '');
    out += chars.includes(c) && LOOKALIKES[c] && !intraword ? LOOKALIKES[c] : c;
  });
  return out;
}

/**
 * `text` cut to at most `max` units (UTF-16 code units, or UTF-8 bytes when `unit` is `bytes`),
 * ending in `…` when cut; never splits a surrogate pair, an `&amp;`-style entity or a `\x` escape.
 */
export function clip(text: string, max: number, unit: 'chars' | 'bytes' = 'chars'): string {
  const size = (s: string): number => (unit === 'bytes' ? Buffer.byteLength(s, 'utf8') : s.length);
  if (size(text) <= max) return text;
  const room = max - size('…');
  if (room <= 0) return '';
  let cut: string;
  if (unit === 'chars') {
    cut = text.slice(0, room);
  } else {
    // Cut on the bytes, then drop a partly cut character (TextDecoder would leave U+FFFD).
    const bytes = Buffer.from(text, 'utf8').subarray(0, room);
    cut = bytes.toString('utf8').replace(/\uFFFD$/, '');
  }
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  cut = cut.replace(/&[a-z0-9#]*$/i, '');
  // An odd number of trailing backslashes would escape the ellipsis (or whatever markup follows).
  if (/(?:^|[^\\])(?:\\\\)*\\$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** UTF-8 size of `text`. */
export function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
