// Which way lib/'s dependencies point (`npm run deps`, part of `npm test`). The data's route is
// hss (fetch) -> state (last seen) -> diff (what changed) -> notify (tell people), with poll the one
// place that wires them, outbox sending what was enqueued and config parsing everything at the edge.
// As imports, that is the layers below: a unit (a folder of lib/, or one of lib's own files) imports
// only units of the layers under its own, never one above it nor a sibling of its own layer. So no
// two folders import each other, and a new folder must be given a place here before it can import.
'use strict';
/* global module */ // CommonJS: dependency-cruiser require()s this file.

/** Top first. A unit is `lib/<folder>` (all its files and subfolders) or a file of lib/ itself. */
const LAYERS = [
  // The wiring the handler and the CLI call: build everything from a Config, resolve SSM secrets.
  ['lib/app.ts', 'lib/secrets.ts'],
  // One poll: reads HSS, judges, settles state and enqueues, over the parts below.
  ['lib/poll'],
  // Parses the environment and the destinations file into every part's own types.
  ['lib/config'],
  // Everything sent goes through the outbox: delivery state, pacing, leases.
  ['lib/outbox'],
  // HSS reading (through the call budget), pure judgments over state's records, the channels.
  ['lib/hss', 'lib/diff', 'lib/notify'],
  // The call budget HSS readers share, in memory or in the state table.
  ['lib/budget'],
  // The state table: its layout, its records and their stores.
  ['lib/state'],
  // Huawei Cloud's signer and credentials (HSS and SMN).
  ['lib/huaweicloud'],
  // Leaves: the domain model, errors, time, wording, value rules, redaction, ids, URLs, logging.
  [
    'lib/errors.ts',
    'lib/ids.ts',
    'lib/log.ts',
    'lib/model.ts',
    'lib/redact.ts',
    'lib/rules.ts',
    'lib/task.ts',
    'lib/time.ts',
    'lib/url.ts',
    'lib/wording.ts',
  ],
];

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The path pattern of one unit: a file exactly, or everything under a folder. */
const pattern = (unit) => (unit.endsWith('.ts') ? `^${escape(unit)}$` : `^${escape(unit)}/`);
const anyOf = (units) => units.map(pattern).join('|');

const LEAVES = LAYERS[LAYERS.length - 1];

/** Each unit imports, of lib/, only itself and the layers under its own (leaves also import leaves). */
const layerRules = LAYERS.flatMap((layer, depth) =>
  layer.map((unit) => {
    const below = LAYERS.slice(depth + 1).flat();
    const allowed = layer === LEAVES ? LEAVES : [unit, ...below];
    return {
      name: `layers: ${unit}`,
      comment: `${unit} imports only the layers under its own (.dependency-cruiser.cjs, LAYERS)`,
      severity: 'error',
      from: { path: pattern(unit) },
      to: { path: '^lib/', pathNot: anyOf(allowed) },
    };
  }),
);

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'layers: every unit has a place',
      comment: 'a folder or file of lib/ that is in no layer of LAYERS: give it one',
      severity: 'error',
      from: { path: '^lib/', pathNot: anyOf(LAYERS.flat()) },
      to: {},
    },
    {
      name: 'no folder cycles',
      comment: 'two folders that import each other (whatever the layers say)',
      severity: 'error',
      scope: 'folder',
      from: { path: '^lib/' },
      to: { circular: true },
    },
    {
      name: 'no runtime cycles',
      comment: 'modules that load each other at run time (type-only imports are erased)',
      severity: 'error',
      from: { path: '^lib/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'lib is self-contained',
      comment: 'lib/ ships in the Lambda bundle: it never imports the entry points, local tools or tests',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(handlers|cli|bin|local|bench|test|deploy|bundle)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports count: a layer that names an upper layer's types depends on it all the same.
    tsPreCompilationDeps: true,
  },
};
