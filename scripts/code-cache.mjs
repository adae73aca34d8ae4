// `npm run build`, last step, and the install script. Two things, both for the Node
// that runs this script (the one that will run pidone):
//
// 1. dist/node-flags: the flags bin/pidone gives this Node so that SIGUSR1 never opens
//    its inspector (docs/security.md): --disable-sigusr1 where this Node has it (22.14,
//    23.7 and later), else the permission model (--permission, or
//    --experimental-permission before 22.13) with pidone's files and addon allowed, else
//    none. Each candidate is tried on this Node first: an unknown flag makes Node exit 9
//    before pidone runs, so only flags this very Node accepted are written. The file's
//    lines: this Node's path, the flags, and the number of threads pidone's Node has
//    (the launcher checks a pids limit against it). The launcher uses the file only for
//    the same Node binary (test -ef) and only if the file is newer than it; otherwise it
//    decides from `node --version`.
//
// 2. V8's code cache for dist/pidone.cjs, so that bin/pidone does not compile pidone's
//    functions on every start (docs/performance.md, figures 1 and 2). The cache is what
//    V8 compiled during one real run of the launcher (`pidone -- sh -c ...`, with the
//    flags above), saved when it exits (PIDONE_WRITE_CODE_CACHE, read by bin/pidone
//    only). It is tied to the bundle's build (its first line) and, by V8, to this
//    Node's version and flags; bin/pidone ignores it otherwise.
//
// Both are optimisations or hardening that must never stop a build: a failure says why
// and exits 0.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, 'dist', 'pidone.cjs.cache');
const flagsFile = join(root, 'dist', 'node-flags');
if (!existsSync(join(root, 'dist', 'pidone.cjs'))) {
  process.stderr.write("code-cache: dist/pidone.cjs is not built ('npm run build'); no code cache\n");
  process.exit(0);
}

const allow = ['--allow-fs-read=*', '--allow-fs-write=*', '--allow-addons'];
const candidates = [['--disable-sigusr1'], ['--permission', ...allow], ['--experimental-permission', ...allow], []];
const accepted = (flags) => spawnSync(process.execPath, [...flags, '--version'], { stdio: 'ignore' }).status === 0;

/** Run the launcher once with `flags` recorded; the child prints pidone's thread count. */
function runPidone(flags, threads) {
  writeFileSync(flagsFile, `${process.execPath}\n${flags.join(' ')}\n${threads}\n`);
  return spawnSync(
    join(root, 'bin', 'pidone'),
    ['--', '/bin/sh', '-c', 'while read -r k v; do [ "$k" = Threads: ] && echo "$v"; done </proc/$PPID/status; exit 0'],
    {
      env: { ...process.env, PIDONE_WRITE_CODE_CACHE: '1', PIDONE_NODE: process.execPath },
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
}

let flags = candidates.find(accepted) ?? [];
let r = runPidone(flags, 4);
if (r.status !== 0 && flags.length > 0) {
  const why = r.error ? r.error.message : (r.stderr || '').trim().split('\n')[0] || `exit ${r.status}`;
  process.stderr.write(`code-cache: pidone did not run with ${flags.join(' ')} (${why}); SIGUSR1 stays open to Node's inspector at start (docs/security.md)\n`);
  flags = [];
  r = runPidone(flags, 4);
}
const threads = Number(r.stdout.trim());
if (r.status !== 0 || !Number.isInteger(threads) || threads < 1) {
  rmSync(flagsFile, { force: true });
  const why = r.error ? r.error.message : (r.stderr || '').trim().split('\n')[0] || `exit ${r.status}`;
  process.stderr.write(`code-cache: no code cache and no dist/node-flags (pidone did not run: ${why}); pidone will compile at each start\n`);
  process.exit(0);
}
writeFileSync(flagsFile, `${process.execPath}\n${flags.join(' ')}\n${threads}\n`);
process.stderr.write(`code-cache: dist/node-flags (${flags.join(' ') || 'no flags'}; ${threads} threads)\n`);
process.stderr.write(existsSync(cache) ? 'code-cache: dist/pidone.cjs.cache\n' : 'code-cache: no code cache (pidone did not save one)\n');
