import { redactUrl, redactValues, scrubUrls } from '../lib/redact';

describe('redactUrl', () => {
  it.each([
    [
      'https://hooks.slack.com/services/T000/B000/XXXX',
      'https://hooks.slack.com/…',
      'the path is the Slack credential',
    ],
    ['http://127.0.0.1:8080/hooks/x?token=abc', 'http://127.0.0.1:8080/…', 'the port stays, query tokens go'],
    ['https://user:pa55@example.com/x#frag', 'https://example.com/…', 'basic-auth user info is a secret too'],
    ['http://[::1]:9000/a', 'http://[::1]:9000/…', 'IPv6 hosts keep their brackets'],
    ['not a url with SECRET', '[invalid URL]', 'an unparseable value may be a mistyped secret: say nothing'],
  ])('%s -> %s (%s)', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });

  it('is idempotent, so redacting twice is harmless', () => {
    const once = redactUrl('https://hooks.slack.com/services/T/B/X');
    expect(redactUrl(once)).toBe(once);
  });
});

describe('scrubUrls', () => {
  it('redacts every URL inside free text and leaves the rest', () => {
    expect(scrubUrls('POST https://a.example/s1 then http://b.example:81/s2?k=v failed')).toBe(
      'POST https://a.example/… then http://b.example:81/… failed',
    );
  });
});

describe('redactValues', () => {
  it('replaces every occurrence of each value, the longest first', () => {
    expect(redactValues('key ABCDEF in ABCDEFGH and ABCDEF', ['ABCDEF', 'ABCDEFGH'])).toBe(
      'key [redacted] in [redacted] and [redacted]',
    );
  });
});
