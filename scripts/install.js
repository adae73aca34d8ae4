// pidone's npm install script: get a native addon that loads, or say clearly why not.
//
// node-gyp-build does the work, the standard way: it keeps a build or a prebuild
// (prebuilds/linux-x64/node.napi.glibc.node, made by `npm run build:prebuild`) that loads,
// and runs `node-gyp rebuild` only when none does. In a source checkout (src/ is
// there; the npm package has no src/) the addon is always compiled, so that changes
// to native/ are never hidden behind an older build.
//
// In an installed package (never in a source checkout, where bin/pidone is a tracked
// file), the native launcher (native/launcher.c: build/Release/pidone, or the prebuild's
// prebuilds/<platform>-<arch>/pidone) takes bin/pidone's place once it has run pidone
// here, and the sh launcher moves to bin/pidone.sh, where the native one finds the
// JavaScript half. Where no native launcher runs (another architecture or libc without
// a compiler), bin/pidone stays the sh launcher (docs/decisions.md, "The native launcher").
//
// When neither a prebuild nor a build works, node-gyp's own output is followed by one
// message that says what was tried and what to do, and the install fails: an init
// without its addon cannot run, and a failed `docker build` beats a container that
// dies at start.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const sourceCheckout = existsSync(join(root, 'src'));

const env = { ...process.env };
if (sourceCheckout) env.npm_config_build_from_source = 'true';

let status = 1;
let failure = '';
try {
  const bin = require.resolve('node-gyp-build/bin.js');
  const r = spawnSync(process.execPath, [bin], { cwd: root, env, stdio: 'inherit' });
  status = r.status ?? 1;
  if (r.error) failure = r.error.message;
} catch (error) {
  failure = `node-gyp-build is missing (${error instanceof Error ? error.message : String(error)})`;
}
if (status === 0) {
  if (!sourceCheckout) {
    installNativeLauncher();
    // The package's dist/ is built: make V8's code cache for this Node (in a source
    // checkout, `npm run build` makes it after compiling).
    spawnSync(process.execPath, [join(root, 'scripts', 'code-cache.mjs')], { stdio: 'inherit' });
  }
  process.exit(0);
}

/** Does the launcher at `path` run pidone here (`pidone --version`)? */
function runsHere(path) {
  const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, PIDONE_NODE: process.execPath } });
  return r.status === 0 && /^pidone \S+\n$/.test(r.stdout);
}

function installNativeLauncher() {
  const bin = join(root, 'bin', 'pidone');
  const sh = join(root, 'bin', 'pidone.sh');
  const candidates = [join(root, 'build', 'Release', 'pidone'), join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'pidone')];
  const launcher = candidates.find((path) => existsSync(path) && runsHere(path));
  if (launcher === undefined) {
    // bin/pidone is the sh launcher already, unless an earlier install replaced it.
    if (existsSync(sh)) renameSync(sh, bin);
    process.stderr.write(`pidone: no native launcher runs here (tried ${candidates.join(', ')}); bin/pidone stays the sh launcher\n`);
    return;
  }
  // The sh launcher (also the JavaScript half) moves aside once; a reinstall finds it there.
  if (!existsSync(sh)) renameSync(bin, sh);
  const staging = `${bin}.new-${process.pid}`;
  copyFileSync(launcher, staging);
  chmodSync(staging, 0o755);
  renameSync(staging, bin);
  if (!runsHere(bin)) {
    rmSync(bin, { force: true });
    renameSync(sh, bin);
    process.stderr.write(`pidone: the native launcher did not run from ${bin}; bin/pidone stays the sh launcher\n`);
  }
}

function shippedPrebuilds() {
  const dir = join(root, 'prebuilds');
  try {
    return readdirSync(dir).flatMap((tuple) => readdirSync(join(dir, tuple)).map((f) => `${tuple}/${f}`));
  } catch {
    return [];
  }
}

function libc() {
  const report = process.report?.getReport?.();
  const glibc = report?.header?.glibcVersionRuntime;
  return glibc ? `glibc ${glibc}` : 'not glibc (musl?)';
}

const prebuilds = shippedPrebuilds();
const wanted = `${process.platform}-${process.arch}`;
const lines = [
  '',
  'pidone: could not install its native addon (pidone.node).',
  `  Here: ${wanted}, ${libc()}, Node ${process.version} (N-API ${process.versions.napi}).`,
  prebuilds.length === 0
    ? '  Prebuilt addons shipped: none.'
    : `  Prebuilt addons shipped: ${prebuilds.join(', ')}` +
      (sourceCheckout
        ? ' (not used in a source checkout).'
        : prebuilds.some((p) => p.startsWith(`${wanted}/`))
          ? ` (one matches ${wanted} but did not load: it needs glibc >= the one it was built on).`
          : ` (none for ${wanted}).`),
  `  Building from source failed${failure ? `: ${failure}` : ' (see the node-gyp output above)'}.`,
  '  Fix: install a compiler toolchain and build again:',
  '    Debian/Ubuntu: apt-get install -y python3 make g++     Alpine: apk add python3 make g++',
  '    then: npm rebuild pidone',
  "  Only the simulator ('pidone/sim') works without the addon: npm install --ignore-scripts pidone.",
  '',
];
process.stderr.write(lines.join('\n'));
process.exit(status === 0 ? 1 : status);
