import { ConfigError } from '../../lib/errors';
import { HSS_REGIONS, hssEndpoint } from '../../lib/hss/endpoint';

describe('hssEndpoint', () => {
  it.each([
    // why: the common pattern
    ['cn-north-4', 'https://hss.cn-north-4.myhuaweicloud.com'],
    ['ap-southeast-1', 'https://hss.ap-southeast-1.myhuaweicloud.com'],
    ['ru-moscow-1', 'https://hss.ru-moscow-1.myhuaweicloud.com'],
    // why: the one region on its own domain
    ['eu-west-101', 'https://hss.eu-west-101.myhuaweicloud.eu'],
    // why: copy-paste damage (case, spaces) does not change the region meant
    ['  CN-North-4 ', 'https://hss.cn-north-4.myhuaweicloud.com'],
  ])('maps region %p to %p', (region, expected) => {
    // Act
    const endpoint = hssEndpoint(region);
    // Assess
    expect(endpoint).toBe(expected);
  });

  it('knows the 30 regions listed in the API facts and maps each to an https URL without trailing slash', () => {
    // Act
    const endpoints = HSS_REGIONS.map(hssEndpoint);
    // Assess
    expect(HSS_REGIONS).toHaveLength(30);
    expect(new Set(HSS_REGIONS).size).toBe(30);
    expect(HSS_REGIONS).toEqual(expect.arrayContaining(['cn-north-4', 'eu-west-101', 'my-kualalumpur-1']));
    for (const endpoint of endpoints)
      expect(endpoint).toMatch(/^https:\/\/hss\.[a-z0-9-]+\.myhuaweicloud\.(com|eu)$/);
  });

  it('rejects an unknown region with a ConfigError that names it, lists the regions and says how to override', () => {
    // Act
    const act = () => hssEndpoint('mars-north-1');
    // Assess
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(/Unknown HSS region "mars-north-1"/);
    expect(act).toThrow(/cn-north-4/);
    expect(act).toThrow(/set HSS_ENDPOINT/);
    try {
      act();
    } catch (err) {
      expect((err as ConfigError).variable).toBe('HSS_REGION');
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it('rejects an empty region with a message that says it is empty', () => {
    expect(() => hssEndpoint('  ')).toThrow(/HSS region is empty.*HSS_ENDPOINT/);
  });
});
