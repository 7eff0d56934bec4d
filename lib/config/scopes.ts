// Where HSS is read: scopes from HSS_SCOPES (`region/project_id[/enterprise_project_id][@credential]`,
// comma-separated), from the one-scope form HSS_REGION + HSS_PROJECT_ID (+ HSS_ENTERPRISE_PROJECT_ID),
// or from `scopes:` in the destinations file; exactly one of the three.
import { HSS_REGIONS } from '../hss/endpoint';
import { DEFAULT_CREDENTIAL } from '../huaweicloud/credentials';
import type { FileReader } from './file';
import type { Problem } from './problems';
import { check, credentialName, refuse, regionId, rule, shown, text } from '../rules';
import type { ScopeConfig } from './types';
import type { Input, Values } from './variables';

const DEFAULT_ENTERPRISE_PROJECT = '0';

// Ids never hold the separators of the list form.
const ID = { re: /^[^/@,\s]+$/, doc: 'without / @ , or spaces' };
export const PROJECT_ID = text(1, 256, ID);
export const ENTERPRISE_PROJECT_ID = text(1, 256, ID);

// Scopes are ids (never secrets): shown whole unless absurdly long.
const SHOWN_SCOPE = 160;
const SCOPE_FORM = 'region/project_id[/enterprise_project_id][@credential]';

/** One scope in the list form; a problem detail when it is not one. */
function parseScope(item: string): ScopeConfig | string {
  const m = /^([^/@]+)\/([^/@]+)(?:\/([^/@]+))?(?:@([^/@]+))?$/.exec(item);
  if (!m) return `not ${SCOPE_FORM}`;
  const [, region, projectId, enterpriseProjectId, credential] = m;
  const parts = [
    check(regionId, region!, 'region'),
    check(PROJECT_ID, projectId!, 'project_id'),
    check(ENTERPRISE_PROJECT_ID, enterpriseProjectId ?? DEFAULT_ENTERPRISE_PROJECT, 'enterprise_project_id'),
    check(credentialName, credential ?? DEFAULT_CREDENTIAL, 'credential'),
  ] as const;
  const refused = parts.filter((p) => !p.ok).map((p) => (p.ok ? '' : p.problem));
  if (refused.length > 0) return refused.join(', ');
  const [r, p, e, c] = parts.map((x) => (x.ok ? x.value : '')) as [string, string, string, string];
  return { region: r, projectId: p, enterpriseProjectId: e, credential: c };
}

/** HSS_SCOPES: one or more scopes, comma-separated. */
export const scopeList = rule<ScopeConfig[]>(
  `a comma-separated list of ${SCOPE_FORM}, e.g. cn-north-4/0a1b…/all_granted_eps,ap-southeast-1/9f8e…@acme`,
  'value',
  (t) => {
    const items = t
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (items.length === 0) return refuse('an empty list');
    const scopes: ScopeConfig[] = [];
    const bad: string[] = [];
    for (const item of items) {
      const scope = parseScope(item);
      if (typeof scope === 'string') bad.push(`${shown(item, SHOWN_SCOPE)} (${scope})`);
      else scopes.push(scope);
    }
    return bad.length > 0 ? refuse(bad.join(', ')) : scopes;
  },
);

/** A scope of the file's `scopes:` list: the list form as a string, or a mapping. */
function fileScope(raw: unknown, path: string, reader: FileReader): ScopeConfig | undefined {
  if (typeof raw === 'string') {
    const scope = parseScope(raw.trim());
    if (typeof scope !== 'string') return scope;
    reader.problem(path, `must be ${SCOPE_FORM} or a mapping, got ${shown(raw, SHOWN_SCOPE)} (${scope})`);
    return undefined;
  }
  const m = reader.mapping(raw, path, ['region', 'project_id', 'enterprise_project_id', 'credential']);
  if (m === undefined) return undefined;
  const region = reader.value(m.region, `${path}.region`, regionId);
  const projectId = reader.value(m.project_id, `${path}.project_id`, PROJECT_ID);
  const ep = reader.value(m.enterprise_project_id, `${path}.enterprise_project_id`, ENTERPRISE_PROJECT_ID);
  const credential = reader.value(m.credential, `${path}.credential`, credentialName);
  if (m.region === undefined || m.region === null)
    reader.problem(`${path}.region`, 'is required (a region id such as cn-north-4)');
  if (m.project_id === undefined || m.project_id === null)
    reader.problem(`${path}.project_id`, 'is required');
  if (region === undefined || projectId === undefined) return undefined;
  return {
    region,
    projectId,
    enterpriseProjectId: ep ?? DEFAULT_ENTERPRISE_PROJECT,
    credential: credential ?? DEFAULT_CREDENTIAL,
  };
}

/** A scope and how a message names it. */
export interface PlacedScope {
  scope: ScopeConfig;
  where: string;
  variable: string;
}

const ONE_SCOPE_VARIABLES = ['HSS_REGION', 'HSS_PROJECT_ID', 'HSS_ENTERPRISE_PROJECT_ID'] as const;

/**
 * The configured scopes: from exactly one form, every region one HSS serves (unless HSS_ENDPOINT
 * serves them all), none repeated.
 */
export function buildScopes(
  values: Values,
  inputs: ReadonlyMap<string, Input>,
  file: { reader: FileReader; scopes?: unknown[] } | undefined,
  problems: Problem[],
): PlacedScope[] {
  const forms = [
    inputs.has('HSS_SCOPES') ? 'HSS_SCOPES' : undefined,
    ONE_SCOPE_VARIABLES.some((n) => inputs.has(n))
      ? ONE_SCOPE_VARIABLES.filter((n) => inputs.has(n)).join('/')
      : undefined,
    file?.scopes !== undefined ? `scopes: in ${file.reader.label}` : undefined,
  ].filter((f) => f !== undefined);
  if (forms.length > 1) {
    problems.push({
      variable: 'HSS_SCOPES',
      text: `scopes are given in more than one way (${forms.join(' and ')}): use one of HSS_SCOPES, HSS_REGION + HSS_PROJECT_ID (+ HSS_ENTERPRISE_PROJECT_ID), or scopes: in the destinations file`,
    });
    return [];
  }
  let placed: PlacedScope[];
  if (inputs.has('HSS_SCOPES')) {
    placed = (values.HSS_SCOPES ?? []).map((scope) => ({
      scope,
      where: `HSS_SCOPES ${shown(listForm(scope), SHOWN_SCOPE)}`,
      variable: 'HSS_SCOPES',
    }));
  } else if (file?.scopes !== undefined) {
    const { reader } = file;
    if (file.scopes.length === 0) reader.problem('scopes', 'is empty: list at least one scope');
    placed = file.scopes.flatMap((raw, i) => {
      const scope = fileScope(raw, `scopes[${i}]`, reader);
      return scope ? [{ scope, where: `${reader.label}: scopes[${i}]`, variable: reader.variable }] : [];
    });
  } else {
    placed = oneScope(values, inputs, problems);
  }

  const seen = new Map<string, string>();
  for (const { scope, where, variable } of placed) {
    if (scope.region !== undefined && values.HSS_ENDPOINT === undefined) {
      const problem = unknownRegion(
        scope.region,
        variable === 'HSS_REGION' ? 'HSS_REGION' : `${where}: region`,
      );
      if (problem !== undefined) problems.push({ variable, text: problem });
    }
    const key = `${scope.region ?? ''}/${scope.projectId}/${scope.enterpriseProjectId}`;
    const first = seen.get(key);
    if (first !== undefined) problems.push({ variable, text: `${where} repeats the scope of ${first}` });
    else seen.set(key, where);
  }
  return placed;
}

function oneScope(values: Values, inputs: ReadonlyMap<string, Input>, problems: Problem[]): PlacedScope[] {
  if (!inputs.has('HSS_PROJECT_ID')) {
    problems.push({
      variable: 'HSS_PROJECT_ID',
      text: `HSS_PROJECT_ID is required (${PROJECT_ID.expected}) with HSS_REGION, or HSS_SCOPES for several scopes`,
    });
    return [];
  }
  if (!inputs.has('HSS_REGION') && values.HSS_ENDPOINT === undefined && !inputs.has('HSS_ENDPOINT')) {
    problems.push({
      variable: 'HSS_REGION',
      text: 'HSS_REGION is required (an HSS region such as cn-north-4) unless HSS_ENDPOINT is set',
    });
    return [];
  }
  if (values.HSS_PROJECT_ID === undefined) return [];
  const scope: ScopeConfig = {
    ...(values.HSS_REGION !== undefined && { region: values.HSS_REGION }),
    projectId: values.HSS_PROJECT_ID,
    enterpriseProjectId: values.HSS_ENTERPRISE_PROJECT_ID ?? DEFAULT_ENTERPRISE_PROJECT,
    credential: DEFAULT_CREDENTIAL,
  };
  return [{ scope, where: 'HSS_PROJECT_ID', variable: 'HSS_REGION' }];
}

/** `region/project/ep[@credential]`, the list form of a scope. */
function listForm(scope: ScopeConfig): string {
  const credential = scope.credential === DEFAULT_CREDENTIAL ? '' : `@${scope.credential}`;
  return `${scope.region ?? '(endpoint)'}/${scope.projectId}/${scope.enterpriseProjectId}${credential}`;
}

/** A problem when HSS does not serve `region` (HSS_REGIONS is the one list), with the likeliest fix. */
function unknownRegion(region: string, where: string): string | undefined {
  if (HSS_REGIONS.includes(region)) return undefined;
  const best = Math.min(...HSS_REGIONS.map((r) => distance(r, region)));
  const near = best <= 2 ? HSS_REGIONS.filter((r) => distance(r, region) === best) : [];
  const guess = near.length > 0 ? ` (did you mean ${near.join(' or ')}?)` : '';
  return `${where} ${shown(region)} is not a region HSS serves${guess}: use one of ${HSS_REGIONS.join(', ')}, or set HSS_ENDPOINT for another region or a private endpoint`;
}

/** Levenshtein distance: typos in region ids are one or two edits. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}
