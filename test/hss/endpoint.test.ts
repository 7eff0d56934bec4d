import { ConfigError } from '../../lib/errors';
import { HSS_REGIONS, hssEndpoint, parseHssEndpoint } from '../../lib/hss/endpoint';

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

describe('parseHssEndpoint', () => {
  it.each([
    ['https://hss.cn-north-4.myhuaweicloud.com', 'https://hss.cn-north-4.myhuaweicloud.com'],
    // why: a trailing slash is harmless and common
    ['https://hss.cn-north-4.myhuaweicloud.com/', 'https://hss.cn-north-4.myhuaweicloud.com'],
    // why: the local emulator is plain http on a port
    ['http://127.0.0.1:8443', 'http://127.0.0.1:8443'],
    // why: the default port is dropped, as it is in the Host header Node sends
    ['https://hss.example.com:443', 'https://hss.example.com'],
  ])('accepts %p as %p', (value, expected) => {
    expect(parseHssEndpoint(value)).toBe(expected);
  });

  it.each([
    ['not a url', /HSS_ENDPOINT is not a URL/],
    ['ftp://hss.example.com', /must start with https:\/\//],
    ['https://user:pw@hss.example.com', /must not contain a user name or password/],
    ['https://hss.example.com/v5', /scheme and host only/],
    ['https://hss.example.com?x=1', /scheme and host only/],
  ])('rejects %p with a ConfigError naming HSS_ENDPOINT', (value, message) => {
    // Act
    const act = () => parseHssEndpoint(value);
    // Assess
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(message);
  });

  it('never echoes the rejected value, which may hold credentials', () => {
    // Act
    const act = () => parseHssEndpoint('https://user:hunter2@hss.example.com');
    // Assess
    expect(act).toThrow(ConfigError);
    expect(act).not.toThrow(/hunter2/);
  });
});
