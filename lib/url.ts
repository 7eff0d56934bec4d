/** True for a host name of this machine: localhost, ::1 or 127.0.0.0/8 (as `URL.hostname` gives it). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** `raw` parsed as a URL, or undefined when it is not one. */
export function parseUrl(raw: string): URL | undefined {
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}

/** True when `raw` is a URL whose host is this machine. */
export function isLoopbackUrl(raw: string): boolean {
  const url = parseUrl(raw);
  return url !== undefined && isLoopbackHost(url.hostname);
}
