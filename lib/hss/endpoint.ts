import { ConfigError } from '../errors';

/** Regions the Huawei Cloud SDK knows for HSS (hss-api.md); any other region needs an endpoint override. */
export const HSS_REGIONS: readonly string[] = Object.freeze([
  'cn-north-1',
  'cn-north-2',
  'cn-north-4',
  'cn-north-9',
  'cn-north-11',
  'cn-north-12',
  'cn-east-2',
  'cn-east-3',
  'cn-east-4',
  'cn-east-5',
  'cn-south-1',
  'cn-south-2',
  'cn-south-4',
  'cn-southwest-2',
  'cn-southwest-3',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'af-south-1',
  'sa-brazil-1',
  'la-south-2',
  'la-north-2',
  'na-mexico-1',
  'tr-west-1',
  'ae-ad-1',
  'me-east-1',
  'my-kualalumpur-1',
  'eu-west-101',
  'ru-moscow-1',
]);

/** Regions served from a domain other than `myhuaweicloud.com`. */
const REGION_DOMAINS: Readonly<Record<string, string>> = { 'eu-west-101': 'myhuaweicloud.eu' };

/**
 * The HSS endpoint of a region, e.g. `https://hss.cn-north-4.myhuaweicloud.com` (no trailing slash);
 * throws ConfigError naming the region when it is not in HSS_REGIONS (set HSS_ENDPOINT instead).
 */
export function hssEndpoint(region: string): string {
  // Case and stray spaces are the usual copy-paste damage; they never change which region is meant.
  const normalised = region.trim().toLowerCase();
  if (!HSS_REGIONS.includes(normalised)) {
    const shown = normalised === '' ? 'HSS region is empty' : `Unknown HSS region "${region.trim()}"`;
    throw new ConfigError(
      `${shown}: expected one of ${HSS_REGIONS.join(', ')}; for another region set HSS_ENDPOINT to its URL (e.g. https://hss.<region>.myhuaweicloud.com)`,
      'HSS_REGION',
    );
  }
  return `https://hss.${normalised}.${REGION_DOMAINS[normalised] ?? 'myhuaweicloud.com'}`;
}
