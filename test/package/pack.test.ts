/**
 * The npm package, as a user gets it: `npm pack`, then `npm install <tarball>` into an
 * empty directory, then `npx pidone -- sh -c 'exit 3'`.
 *
 * - without a compiler (cc, c++, g++, make, python3 really absent from PATH): the
 *   shipped prebuild (prebuilds/linux-x64, made by `npm run build:prebuild`) is used;
 * - with a compiler, from source (--build-from-source): node-gyp builds the addon
 *   from the shipped native/ and binding.gyp;
 * - with neither (a tarball without prebuilds, no compiler): the install fails with
 *   pidone's own message saying what was tried and what to do;
 * - either way, bin/pidone in the installed package is the native launcher
 *   (native/launcher.c; the prebuild's, or the one built from source), with the sh
 *   launcher beside it as bin/pidone.sh; where no native launcher is there to run, the
 *   sh launcher stays bin/pidone (docs/decisions.md, "The native launcher");
 * - the library API (`import { runInit } from 'pidone'`, 'pidone/sim') type-checks
 *   and runs from the installed package: examples/library/ is compiled and run.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';

const PREBUILD_DIR = join(ROOT, 'prebuilds', `${process.platform}-${process.arch}`);
const TOOLCHAIN = ['cc', 'gcc', 'c++', 'g++', 'make', 'python3', 'python'];

let work: string;
let tarball: string;
let packed: { files: Array<{ path: string; size: number }>; size: number; unpackedSize: number };

/** The environment of a fresh shell: no npm_* variables from a surrounding `npm test`. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('npm_') || k === 'INIT_CWD' || k === 'NODE_OPTIONS' || k.startsWith('PIDONE_')) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

function run(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 55_000 });
  if (r.error) throw r.error;
  return r;
}

function which(name: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * A PATH directory holding only node, npm, npx, sh and coreutils (symlinks): what a
 * machine without a compiler toolchain has.
 */
function noCompilerPath(): string {
  const dir = join(work, 'bin-no-compiler');
  mkdirSync(dir);
  const link = (name: string, target: string) => {
    if (!existsSync(join(dir, name))) symlinkSync(target, join(dir, name));
  };
  link('node', process.execPath);
  for (const tool of ['npm', 'npx']) {
    const found = which(tool);
    if (!found) throw new Error(`${tool} is not on PATH`);
    link(tool, realpathSync(found));
  }
  link('sh', realpathSync(which('sh')!));
  const coreutils = spawnSync('dpkg', ['-L', 'coreutils'], { encoding: 'utf8' });
  const tools =
    coreutils.status === 0
      ? coreutils.stdout.split('\n').filter((p) => /^\/(usr\/)?s?bin\/[^/]+$/.test(p))
      : ['cat', 'cp', 'chmod', 'env', 'ln', 'ls', 'mkdir', 'mv', 'rm', 'uname', 'dirname', 'basename', 'readlink', 'tr'].flatMap(
          (t) => which(t) ?? [],
        );
  for (const tool of tools) if (existsSync(tool)) link(basename(tool), realpathSync(tool));
  for (const tool of TOOLCHAIN) if (existsSync(join(dir, tool))) throw new Error(`${tool} leaked into ${dir}`);
  return dir;
}

/** Is `path` an ELF program (the native launcher) rather than a script? */
function isElf(path: string): boolean {
  return readFileSync(path).subarray(0, 4).toString('latin1') === '\x7fELF';
}

/**
 * Which launcher started pidone's Node, as its child sees it: the native launcher's
 * record (PIDONE_LAUNCHER in Node's initial environment, /proc/PID/environ) carries the
 * name pidone was run as (argv0=), the sh launcher's does not.
 */
function launcherOf(pidone: string, cwd: string, env: NodeJS.ProcessEnv): 'native' | 'sh' | string {
  const r = run(pidone, ['--', 'sh', '-c', 'tr "\\0" "\\n" </proc/$PPID/environ'], cwd, env);
  const record = r.stdout.split('\n').find((l) => l.startsWith('PIDONE_LAUNCHER='));
  if (r.status !== 0 || record === undefined) return `failed: ${r.status} ${r.stderr}`;
  return / argv0=/.test(record) ? 'native' : 'sh';
}

/** An empty project directory to install into. */
function project(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `try-${name}`, private: true, type: 'module' }));
  return dir;
}

function npmInstall(dir: string, env: NodeJS.ProcessEnv, tgz: string, ...flags: string[]): SpawnSyncReturns<string> {
  return run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...flags, tgz], dir, env);
}

beforeAll(() => {
  for (const f of ['dist/index.js', 'dist/pidone.cjs', 'dist/kernel/sim/index.js']) {
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run 'npm run build' before the package tests`);
  }
  // .ci/run builds the prebuild before the tests; build it here when it is missing.
  if (!existsSync(PREBUILD_DIR) || !readdirSync(PREBUILD_DIR).some((f) => f.endsWith('.node')) || !existsSync(join(PREBUILD_DIR, 'pidone'))) {
    const r = spawnSync('npm', ['run', 'build:prebuild'], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`npm run build:prebuild failed:\n${r.stdout}\n${r.stderr}`);
  }
  work = mkdtempSync(join(tmpdir(), 'pidone-pack-'));
  const r = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT, cleanEnv());
  expect(r.status, r.stderr).toBe(0);
  const json = JSON.parse(r.stdout) as Array<typeof packed & { filename: string }>;
  packed = json[0]!;
  tarball = join(work, json[0]!.filename);
}, 60_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm package', () => {
  it('holds what runs and builds pidone, and nothing else', () => {
    const paths = packed.files.map((f) => f.path);
    for (const needed of [
      'package.json',
      'bin/pidone',
      'bin/package.json',
      'dist/pidone.cjs',
      'dist/boot.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/kernel/sim/index.js',
      'dist/kernel/sim/index.d.ts',
      'binding.gyp',
      'native/addon.cc',
      'native/launcher.c',
      'native/static-flag.sh',
      'prebuilds/linux-x64/pidone',
      'scripts/install.js',
      'scripts/code-cache.mjs',
    ]) {
      expect(paths).toContain(needed);
    }
    expect(paths.some((p) => /^prebuilds\/linux-x64\/[^/]+\.glibc\.node$/.test(p))).toBe(true);
    const unwanted = paths.filter((p) => /^(src|test|bench|docs|examples|node_modules|build|\.ci)\//.test(p) || /\.ts$/.test(p.replace(/\.d\.ts$/, '')));
    expect(unwanted).toEqual([]);
    // The statically linked native launcher is 0.7 MB of it (0.3 MB compressed; docs/decisions.md).
    expect(packed.size).toBeLessThan(700_000);
    expect(packed.unpackedSize).toBeLessThan(2_500_000);

    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, any>;
    expect(pkg.engines.node).toMatch(/20/);
    expect(pkg.scripts.install).toBe('node scripts/install.js');
    expect(pkg.dependencies['node-gyp-build']).toBeDefined();
    expect(pkg.exports['.'].types).toBe('./dist/index.d.ts');
    expect(pkg.exports['./sim'].default).toBe('./dist/kernel/sim/index.js');
  });

  it('installs and runs without a compiler, from the prebuild', () => {
    const PATH = noCompilerPath();
    const env = cleanEnv({ PATH });
    const probe = run('sh', ['-c', `for t in ${TOOLCHAIN.join(' ')}; do command -v "$t"; done; true`], work, env);
    expect(probe.stdout.trim()).toBe(''); // no compiler toolchain reachable

    const dir = project('no-compiler');
    const install = npmInstall(dir, env, tarball);
    expect(install.status, install.stderr).toBe(0);
    const installed = join(dir, 'node_modules', 'pidone');
    expect(existsSync(join(installed, 'build'))).toBe(false); // nothing was compiled

    const r = run('npx', ['--no', 'pidone', '--', 'sh', '-c', 'exit 3'], dir, env);
    expect(r.status, r.stderr).toBe(3);

    const version = run(join(dir, 'node_modules', '.bin', 'pidone'), ['--version'], dir, env);
    expect(version.stdout.trim()).toMatch(/^pidone \d+\.\d+\.\d+/);

    // What runs is the prebuild's native launcher, in bin/pidone; the sh launcher is beside it.
    expect(isElf(join(installed, 'bin', 'pidone'))).toBe(true);
    expect(readFileSync(join(installed, 'bin', 'pidone')).equals(readFileSync(join(PREBUILD_DIR, 'pidone')))).toBe(true);
    expect(statSync(join(installed, 'bin', 'pidone')).mode & 0o111).toBe(0o111);
    expect(readFileSync(join(installed, 'bin', 'pidone.sh'), 'utf8')).toBe(readFileSync(join(ROOT, 'bin', 'pidone'), 'utf8'));
    expect(launcherOf(join(dir, 'node_modules', '.bin', 'pidone'), dir, env)).toBe('native');
    // --pid-ns starts the inner pidone (PID 1 of the namespace) through bin/pidone too.
    const inner = run(join(dir, 'node_modules', '.bin', 'pidone'), ['--pid-ns', '--', 'sh', '-c', 'tr "\\0" "\\n" </proc/1/environ'], dir, env);
    expect(inner.status, inner.stderr).toBe(0);
    expect(inner.stdout.split('\n').find((l) => l.startsWith('PIDONE_LAUNCHER='))).toMatch(/^PIDONE_LAUNCHER=pid=1 .* argv0=\S*\/bin\/pidone$/);

    // The install script made V8's code cache for this Node, and the launcher uses it.
    const debug = run(join(dir, 'node_modules', '.bin', 'pidone'), ['-vv', '--log-format', 'json', '--', 'true'], dir, env);
    expect(debug.status, debug.stderr).toBe(0);
    expect(debug.stderr).toContain('"codeCache":"used"');
  }, 60_000);

  it('installs and runs with a compiler, building the addon from source', () => {
    // JOBS=max: node-gyp compiles the addon's files in parallel (make -j).
    const env = cleanEnv({ JOBS: 'max' });
    for (const tool of ['make', 'python3']) expect(which(tool), `${tool} for node-gyp`).not.toBeNull();
    const dir = project('from-source');
    const install = npmInstall(dir, env, tarball, '--build-from-source');
    expect(install.status, install.stderr).toBe(0);
    const installed = join(dir, 'node_modules', 'pidone');
    expect(existsSync(join(installed, 'build', 'Release', 'pidone.node'))).toBe(true);

    const r = run('npx', ['--no', 'pidone', '--', 'sh', '-c', 'exit 3'], dir, env);
    expect(r.status, r.stderr).toBe(3);
    // The native launcher built here, in bin/pidone.
    expect(isElf(join(installed, 'bin', 'pidone'))).toBe(true);
    expect(readFileSync(join(installed, 'bin', 'pidone')).equals(readFileSync(join(installed, 'build', 'Release', 'pidone')))).toBe(true);
    expect(launcherOf(join(dir, 'node_modules', '.bin', 'pidone'), dir, env)).toBe('native');
  }, 60_000);

  it('keeps the sh launcher where no native launcher is there to run (a prebuild without one, no compiler)', () => {
    const unpacked = join(work, 'unpacked-no-launcher');
    mkdirSync(unpacked);
    expect(run('tar', ['-xzf', tarball, '-C', unpacked], work, cleanEnv()).status).toBe(0);
    rmSync(join(unpacked, 'package', 'prebuilds', `${process.platform}-${process.arch}`, 'pidone'));
    const tgz = join(work, 'pidone-no-launcher.tgz');
    expect(run('tar', ['-czf', tgz, '-C', unpacked, 'package'], work, cleanEnv()).status).toBe(0);

    const PATH = existsSync(join(work, 'bin-no-compiler')) ? join(work, 'bin-no-compiler') : noCompilerPath();
    const env = cleanEnv({ PATH });
    const dir = project('sh-fallback');
    const install = npmInstall(dir, env, tgz);
    expect(install.status, install.stderr).toBe(0);
    const installed = join(dir, 'node_modules', 'pidone');
    expect(isElf(join(installed, 'bin', 'pidone'))).toBe(false);
    expect(existsSync(join(installed, 'bin', 'pidone.sh'))).toBe(false);
    const r = run('npx', ['--no', 'pidone', '--', 'sh', '-c', 'exit 3'], dir, env);
    expect(r.status, r.stderr).toBe(3);
    expect(launcherOf(join(dir, 'node_modules', '.bin', 'pidone'), dir, env)).toBe('sh');
  }, 60_000);

  it('fails the install with a clear message when there is no prebuild and no compiler', () => {
    // The same package without its prebuilds, as on a platform none was made for.
    const unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    expect(run('tar', ['-xzf', tarball, '-C', unpacked], work, cleanEnv()).status).toBe(0);
    rmSync(join(unpacked, 'package', 'prebuilds'), { recursive: true, force: true });
    const bare = join(work, 'pidone-no-prebuilds.tgz');
    expect(run('tar', ['-czf', bare, '-C', unpacked, 'package'], work, cleanEnv()).status).toBe(0);

    const PATH = existsSync(join(work, 'bin-no-compiler')) ? join(work, 'bin-no-compiler') : noCompilerPath();
    const dir = project('neither');
    const install = npmInstall(dir, cleanEnv({ PATH }), bare);
    expect(install.status).not.toBe(0);
    const output = install.stdout + install.stderr;
    expect(output).toContain('pidone: could not install its native addon (pidone.node).');
    expect(output).toContain('Prebuilt addons shipped: none.');
    expect(output).toContain('apt-get install -y python3 make g++');
    expect(output).toContain('npm rebuild pidone');
  }, 60_000);

  it('exports a typed library API: examples/library compile against the package and run', () => {
    const dir = join(work, 'no-compiler');
    if (!existsSync(join(dir, 'node_modules', 'pidone'))) throw new Error('needs the package installed by the no-compiler test');
    const src = join(dir, 'src');
    mkdirSync(src, { recursive: true });
    for (const f of ['supervise.ts', 'simulated.ts']) cpSync(join(ROOT, 'examples', 'library', f), join(src, f));
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const compile = run(
      process.execPath,
      [
        tsc,
        '--strict',
        '--skipLibCheck',
        '--module', 'nodenext',
        '--moduleResolution', 'nodenext',
        '--target', 'es2022',
        '--typeRoots', join(ROOT, 'node_modules', '@types'),
        '--types', 'node',
        '--rootDir', src,
        '--outDir', join(dir, 'out'),
        join(src, 'supervise.ts'),
        join(src, 'simulated.ts'),
      ],
      dir,
      cleanEnv(),
    );
    expect(compile.status, compile.stdout + compile.stderr).toBe(0);

    const supervise = run(process.execPath, [join(dir, 'out', 'supervise.js')], dir, cleanEnv());
    expect(supervise.stdout).toContain('hello from the child');
    expect(supervise.status, supervise.stderr).toBe(3);
    const killed = run(process.execPath, [join(dir, 'out', 'supervise.js'), 'sh', '-c', 'kill -TERM $$'], dir, cleanEnv());
    expect(killed.status, killed.stderr).toBe(143);

    const simulated = run(process.execPath, [join(dir, 'out', 'simulated.js')], dir, cleanEnv());
    expect(simulated.stdout).toContain('exit code 3, virtual time 3000 ms, processes left 0');
    expect(simulated.status, simulated.stderr).toBe(0);

    // A bad option: ConfigError before anything runs, exit code 2.
    const bad = run(
      process.execPath,
      ['--input-type=module', '-e', "import { runInit } from 'pidone'; try { await runInit({ args: ['--grace', 'soon', '--', 'true'] }); } catch (e) { console.log(e.name, e.exitCode); }"],
      dir,
      cleanEnv(),
    );
    expect(bad.stdout.trim()).toBe('ConfigError 2');
  }, 60_000);
});
