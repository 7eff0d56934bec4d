// What never leaves this process in a log line or an error message: a webhook URL's path (it is the
// credential), so only its scheme and host are shown (alertmanager notify/util.go RedactURL), and any
// secret value (a key, a token, a signing secret), replaced by `[redacted]`.

/** Scheme + host (+ port) of `url` followed by `/…`, e.g. `https://hooks.slack.com/…`; never the path, query or user info. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The input may be a secret with a typo: say nothing about it.
    return '[invalid URL]';
  }
  return `${parsed.protocol}//${parsed.host}/…`;
}

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;

/** `text` with every `scheme://…` in it replaced by its redacted form (for messages we did not write). */
export function scrubUrls(text: string): string {
  return text.replace(URL_IN_TEXT, (match) => redactUrl(match));
}

/** `text` with each of `values` (longest first, so one containing another goes whole) replaced by `[redacted]`. */
export function redactValues(text: string, values: readonly string[]): string {
  let out = text;
  for (const value of [...new Set(values)].filter((v) => v.length > 0).sort((a, b) => b.length - a.length)) {
    out = out.split(value).join('[redacted]');
  }
  return out;
}
