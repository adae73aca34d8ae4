// `npm run build`, last step, and the install script: make V8's code cache for
// dist/pidone.cjs with this Node, so that bin/pidone does not compile pidone's
// functions on every start (docs/performance.md, figures 1 and 2).
//
// The cache is what V8 compiled during one real run of the launcher (`pidone -- sh -c
// :`), saved when it exits (PIDONE_WRITE_CODE_CACHE, read by bin/pidone only). It is
// tied to the bundle's build (its first line) and, by V8, to this Node's version and
// flags; bin/pidone ignores it otherwise. Making it is an optimisation, so a failure
// says why and exits 0: pidone then compiles as usual.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, 'dist', 'pidone.cjs.cache');
if (!existsSync(join(root, 'dist', 'pidone.cjs'))) {
  process.stderr.write("code-cache: dist/pidone.cjs is not built ('npm run build'); no code cache\n");
  process.exit(0);
}
const r = spawnSync(join(root, 'bin', 'pidone'), ['--', '/bin/sh', '-c', ':'], {
  env: { ...process.env, PIDONE_WRITE_CODE_CACHE: '1', PIDONE_NODE: process.execPath },
  stdio: ['ignore', 'ignore', 'pipe'],
  encoding: 'utf8',
  timeout: 60_000,
});
if (r.status !== 0 || !existsSync(cache)) {
  const why = r.error ? r.error.message : (r.stderr || '').trim().split('\n')[0] || `exit ${r.status}`;
  process.stderr.write(`code-cache: no code cache (pidone did not run: ${why}); pidone will compile at each start\n`);
  process.exit(0);
}
process.stderr.write('code-cache: dist/pidone.cjs.cache\n');
