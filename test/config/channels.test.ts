// The configuration of every channel in CHANNELS, each through the fixture its sink module exports
// (local/sinks/<type>.ts): its variables configure the destination the fixture describes, a file entry
// configures the same one, its secrets are marked and never shown. A new channel is covered without a
// change here.
import { describeConfig, isSecretVariable, parseConfig } from '../../lib/config';
import type { DestinationConfig } from '../../lib/notify/channels';
import { VARIABLES } from '../../lib/config/variables';
import { CHANNELS, DESTINATION_TYPES } from '../../lib/notify/channels';
import type { AnyChannelSpec } from '../../lib/notify/channels/spec';
import { channelFixture, type ChannelFixture, type Sink } from '../../local/sinks';
import { MINIMAL } from './fixtures';

const { SLACK_WEBHOOK_URL: _s, ...NO_DESTINATION } = MINIMAL;
const SPECS: readonly AnyChannelSpec[] = CHANNELS;

interface Started {
  spec: AnyChannelSpec;
  fixture: ChannelFixture;
  sink: Sink;
  config: DestinationConfig;
  env: Record<string, string>;
}

// One sink per channel, for the URLs the variables point at (nothing is sent).
const started: Started[] = [];
beforeAll(async () => {
  for (const spec of SPECS) {
    const fixture = channelFixture(spec.type);
    if (fixture === undefined) continue;
    const { sink, config, env } = await fixture.start({ now: () => Date.UTC(2026, 10, 29) });
    started.push({ spec, fixture, sink, config, env });
  }
});
afterAll(async () => {
  await Promise.all(started.map((s) => s.sink.close()));
});

/** The started channel of `type` (every channel has one: test/notify/conformance.test.ts checks the fixtures). */
const of = (type: string): Started => started.find((s) => s.spec.type === type)!;

/** The message `act` throws, or '' when it throws nothing. */
function messageOf(act: () => unknown): string {
  try {
    act();
    return '';
  } catch (error) {
    return (error as Error).message;
  }
}

/** The values of a config's fields that are secret URLs. */
function secretUrls(spec: AnyChannelSpec, config: DestinationConfig): unknown[] {
  const fields = new Map<PropertyKey, unknown>(Object.entries(config));
  return (spec.redact.secretUrls ?? []).map((key) => fields.get(key));
}

describe.each(SPECS.map((spec) => ({ type: spec.type, spec })))('$type', ({ type, spec }) => {
  it('is configured by its variables as its fixture describes, named after its type', () => {
    // Prepare
    const { env, config } = of(type);
    // Act
    const { destinations } = parseConfig({ ...NO_DESTINATION, ...env });
    // Assess
    expect(destinations).toEqual([config]);
  });

  it('is turned on by its first variable: the others only apply with it', () => {
    // Prepare: its variables but the first, next to another destination.
    const [first, ...others] = Object.keys(spec.variables);
    const { env } = of(type);
    const alone = Object.keys(env).filter((name) => name !== first);
    // Act
    const said = messageOf(() =>
      parseConfig({ ...MINIMAL, ...Object.fromEntries(alone.map((n) => [n, env[n]!])) }),
    );
    // Assess
    expect(Object.keys(env)).toContain(first);
    expect(others.map((name) => (VARIABLES as Record<string, { needs?: string }>)[name]?.needs)).toEqual(
      others.map(() => first),
    );
    expect(alone.filter((name) => !said.includes(`${name} is set but ${first} is not`))).toEqual([]);
  });

  it('marks as secret exactly the variables that hold its secrets or its secret URL', () => {
    // Prepare
    const { env, config, fixture } = of(type);
    const secretValues = [...fixture.secrets, ...secretUrls(spec, config)];
    // Act
    const marked = Object.keys(spec.variables).filter((name) => isSecretVariable(name));
    // Assess
    const holding = Object.entries(env)
      .filter(([, value]) => secretValues.includes(value))
      .map(([name]) => name);
    expect(marked.sort()).toEqual(holding.sort());
  });

  it('is shown by describeConfig without its secrets or its URL path', () => {
    // Prepare
    const { env, fixture, sink } = of(type);
    // Act
    const shown = JSON.stringify(describeConfig(parseConfig({ ...NO_DESTINATION, ...env })).destinations);
    // Assess
    const path = new URL(sink.url).pathname;
    expect(fixture.secrets.filter((secret) => shown.includes(secret))).toEqual([]);
    expect(shown.includes(path) && path !== '/').toBe(false);
    expect(shown).toContain(`"type":"${type}"`);
  });
});

describe.each(SPECS.filter((spec) => spec.url !== undefined).map((spec) => ({ type: spec.type, spec })))(
  '$type, configured by a webhook URL',
  ({ type }) => {
    it('is configured by a destinations-file entry on loopback as by its variables', () => {
      // Prepare: the entry's keys are the config's own (`url`, `secret`): raw values are accepted on loopback.
      const { config } = of(type);
      const { name: _n, routing: _r, ...fields } = config;
      const file = JSON.stringify({ destinations: [{ ...fields, name: `${type}-file` }] });
      // Act
      const { destinations } = parseConfig(
        { ...NO_DESTINATION, DESTINATIONS_FILE_PARAM: '/hss/destinations' },
        { parameters: { '/hss/destinations': { value: file, type: 'String' } } },
      );
      // Assess
      expect(destinations).toEqual([{ ...config, name: `${type}-file` }]);
    });
  },
);

describe('every channel at once', () => {
  it('configures one destination of each, in the order of CHANNELS, each named after its type', () => {
    // Act
    const { destinations } = parseConfig({ ...MINIMAL, ...Object.assign({}, ...started.map((s) => s.env)) });
    // Assess
    expect(destinations.map((d) => d.name)).toEqual([...DESTINATION_TYPES]);
  });

  it('names every channel when no destination is configured', () => {
    // Act
    const said = messageOf(() => parseConfig(NO_DESTINATION));
    // Assess
    const enabling = SPECS.map((spec) => Object.keys(spec.variables)[0]!);
    expect(enabling.filter((name) => !said.includes(name))).toEqual([]);
    expect(said).toContain('or list destinations in DESTINATIONS_FILE');
  });
});
