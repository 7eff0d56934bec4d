// esbuild plugins for the Lambda bundle: serverless.yml (custom.esbuild.plugins) and bench/bundle.ts
// load this file, so the measured bundle is the deployed one.
'use strict';
/* global require, module */ // CommonJS: serverless-esbuild require()s this file.
/* eslint-disable @typescript-eslint/no-require-imports */

const fs = require('node:fs/promises');
const path = require('node:path');

const AXIOS_ROOT = /^(.*[\\/]node_modules[\\/]axios)[\\/]/;

const refuse = (what) => `new Error('axios: ${what} is not in this bundle (bundle/esbuild-plugins.cjs)')`;

/**
 * What axios would load that our two clients (lib/hss/transport.ts, lib/notify/http.ts) never use:
 * both send with the http adapter, maxRedirects 0, JSON or no body, no proxy option. Keyed by the
 * import as axios writes it: a path inside the axios package, or a package name.
 */
const AXIOS_STUBS = {
  // The fetch adapter probes Request/Response when imported, which makes Node load undici (~20 ms).
  'lib/adapters/fetch.js': 'export const getFetch = () => false;\nexport default false;',
  'lib/adapters/xhr.js': 'export default false;',
  // HTTP/2 (`http2: true`), multipart bodies, redirects, proxies from HTTP(S)_PROXY.
  'lib/helpers/Http2Sessions.js': `export default class Http2Sessions { getSession() { throw ${refuse('HTTP/2')}; } }`,
  'lib/helpers/shouldBypassProxy.js': 'export default () => true;',
  http2: 'export default {};',
  'form-data': `export default class FormData { constructor() { throw ${refuse('multipart form-data')}; } }`,
  'follow-redirects': `const transport = { request() { throw ${refuse('following redirects (maxRedirects > 0)')}; } };\nexport default { http: transport, https: transport };`,
  'proxy-from-env': "export const getProxyForUrl = () => '';",
  'https-proxy-agent': `export default class HttpsProxyAgent { constructor() { throw ${refuse('HTTPS proxying')}; } }`,
};

/**
 * Edits of axios source, each [file inside axios, exact text, replacement]. The build fails if the
 * text is gone (an axios upgrade): review the edit then, rather than silently loading undici again.
 */
const AXIOS_EDITS = [
  [
    'lib/utils.js',
    "const FormDataCtor = typeof G.FormData !== 'undefined' ? G.FormData : undefined;",
    // Reading globalThis.FormData at import makes Node load undici; isFormData still recognises a
    // FormData by its tag (kindOf), and we never send one.
    'const FormDataCtor = undefined;',
  ],
];

/** Replaces the parts of axios in AXIOS_STUBS with stand-ins that throw if ever used; applies AXIOS_EDITS. */
const leanAxios = {
  name: 'lean-axios',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]axios[\\/]lib[\\/].*\.js$/ }, async (args) => {
      const file = path.relative(AXIOS_ROOT.exec(args.path)[1], args.path).split(path.sep).join('/');
      const edits = AXIOS_EDITS.filter(([target]) => target === file);
      if (edits.length === 0) return undefined;
      let contents = await fs.readFile(args.path, 'utf8');
      for (const [, text, replacement] of edits) {
        if (!contents.includes(text)) {
          throw new Error(
            `lean-axios: axios/${file} no longer contains ${JSON.stringify(text)}; review AXIOS_EDITS in bundle/esbuild-plugins.cjs`,
          );
        }
        contents = contents.replace(text, replacement);
      }
      return { contents, loader: 'js' };
    });
    build.onResolve({ filter: /.*/ }, (args) => {
      const root = AXIOS_ROOT.exec(args.importer);
      if (!root) return undefined;
      const id = args.path.startsWith('.')
        ? path
            .relative(root[1], path.join(path.dirname(args.importer), args.path))
            .split(path.sep)
            .join('/')
        : args.path.replace(/^node:/, '');
      return id in AXIOS_STUBS ? { path: id, namespace: 'lean-axios' } : undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'lean-axios' }, (args) => ({
      contents: AXIOS_STUBS[args.path],
      loader: 'js',
    }));
  },
};

module.exports = [leanAxios];
