// `npm run build`, second step: bundle what bin/pidone runs into one CommonJS file,
// dist/pidone.cjs, from the ES modules tsc wrote to dist/.
//
// Why (docs/performance.md, figure 1): for an ES module entry Node starts its ESM
// loader, which costs about 5-10 ms more than a CommonJS script and reads each module
// through the libuv thread pool (4 more threads, and their memory, for the whole life
// of the init). One CommonJS file is read in one go and compiled once, and V8's code
// cache (scripts/code-cache.mjs) can then cover all of it. esbuild does the bundling:
// tsc cannot, and esbuild keeps the lazily loaded modules (the command-line parser, the
// compat modes) lazy, wrapped in functions that run only when imported.
//
// The dependencies (pino, yargs) stay outside, loaded with require() on first use as
// before. The ES modules in dist/ stay too: they are the library API (src/index.ts),
// what the tests import, and what the bundle is made from.
//
// The first line of the bundle names the build (a hash of the rest): the code cache
// carries the same name, and the launcher uses a cache only for the build it was made
// from (V8 itself checks only the source's length).
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'pidone.cjs');

const result = await build({
  entryPoints: [join(root, 'dist', 'boot.js')],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['pino', 'yargs'],
  // import.meta does not exist in CommonJS. Its two users, the addon loader (the
  // package root, and a require for the addon) and the logger (a require for pino),
  // get the URL their module has in dist/, so every path they derive stays the same.
  define: { 'import.meta.url': '__pidone_loader_url' },
  banner: {
    js: "const __pidone_loader_url = require('node:url').pathToFileURL(__dirname + '/kernel/linux/loader.js').href;",
  },
  legalComments: 'none',
  write: false,
  logLevel: 'warning',
});
const code = result.outputFiles[0].text;
if (/\bimport\(/.test(code)) {
  // A dynamic import() left in the bundle would need an ESM loader the launcher's
  // vm.Script does not give it.
  process.stderr.write('bundle: dist/pidone.cjs still has a dynamic import(); bundle it or make it a require()\n');
  process.exit(1);
}
const buildId = createHash('sha256').update(code).digest('hex').slice(0, 32);
writeFileSync(out, `// pidone build ${buildId}\n${code}`);
// A cache made for an earlier build is useless now; scripts/code-cache.mjs makes one.
rmSync(`${out}.cache`, { force: true });
process.stderr.write(`bundle: dist/pidone.cjs (${Math.round(readFileSync(out).length / 1024)} kB, build ${buildId.slice(0, 8)})\n`);
