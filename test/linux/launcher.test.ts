/**
 * The launchers (the native one, native/launcher.c, and the sh one, bin/pidone, its
 * fallback) and what they hand to Node: the Node start-up variables they hold aside for
 * the child, the one-file bundle (bin/pidone's JavaScript half runs it) and V8's code
 * cache for it. Run as an ordinary process (no namespace needed): the launcher does the
 * same as PID 1. launcher-native.test.ts has what only the native launcher does.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NODE_STARTUP_VARS } from '../../src/environment.js';
import { PIDONE, PIDONE_NATIVE, PIDONE_SH, ROOT } from '../helpers/paths.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pidone-launcher-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** This process's environment without the Node start-up variables, plus `extra`. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of NODE_STARTUP_VARS) delete env[name];
  return { ...env, ...extra };
}

/** pidone, run to the end, in cleanEnv(env). */
function run(args: string[], env: NodeJS.ProcessEnv = {}, launcher = PIDONE) {
  return spawnSync(launcher, args, { env: cleanEnv(env), encoding: 'utf8', timeout: 30_000 });
}

function logLines(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('Node start-up variables: the same list everywhere', () => {
  it('the sh launcher and src/environment.ts hold aside the same variables', () => {
    const launcher = readFileSync(PIDONE_SH, 'utf8');
    const list = /^for pidone_name in ([A-Z0-9_ ]+); do$/m.exec(launcher)?.[1]?.split(' ');
    expect(list).toEqual([...NODE_STARTUP_VARS]);
  });
});

const LAUNCHERS: Array<[string, string]> = [
  ['native', PIDONE_NATIVE],
  ['sh', PIDONE_SH],
];

describe.each(LAUNCHERS)('Node start-up variables: for the child, not for pidone (%s launcher)', (_kind, launcher) => {

  it('NODE_EXTRA_CA_CERTS reaches the child unchanged; pidone neither loads it nor warns about it', () => {
    const r = run(['--', 'sh', '-c', 'printf "%s\\n" "$NODE_EXTRA_CA_CERTS"'], { NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem' }, launcher);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('/nonexistent/ca.pem\n');
    // Node warns "Ignoring extra certs from ..." on its stderr when it loads a missing file.
    expect(r.stderr).toBe('');
  });

  it('NODE_V8_COVERAGE reaches the child; pidone writes no coverage of its own', () => {
    const dir = tempDir();
    const r = run(['--', 'sh', '-c', 'printf "%s\\n" "$NODE_V8_COVERAGE"'], { NODE_V8_COVERAGE: dir }, launcher);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${dir}\n`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("a Node parent's IPC channel (fork) reaches a Node child through pidone", async () => {
    const childScript = "process.send({ hello: 1 }); process.on('message', (m) => { process.send({ echo: m }); process.disconnect(); });";
    // 'ipc' in stdio: Node sets NODE_CHANNEL_FD for pidone, as fork() would.
    const pidone = spawn(launcher, ['--', process.execPath, '-e', childScript], {
      env: cleanEnv(),
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    pidone.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const messages: unknown[] = [];
    pidone.on('message', (m: { hello?: number }) => {
      messages.push(m);
      if (m.hello) pidone.send('ping');
    });
    const code = await new Promise<number | null>((resolve) => pidone.on('exit', (c) => resolve(c)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(messages).toEqual([{ hello: 1 }, { echo: 'ping' }]);
  });
});

describe('the bundle and its code cache', () => {
  /** A copy of the package (bin/ and dist/; the addon and node_modules linked) to break things in. */
  function copyOfPackage(): string {
    const dir = tempDir();
    cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
    cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    symlinkSync(join(ROOT, 'build'), join(dir, 'build'));
    return dir;
  }

  function codeCacheOf(stderr: string): unknown {
    return logLines(stderr).find((l) => l['msg'] === 'launched')?.['codeCache'];
  }

  it('the build makes a code cache this Node accepts', () => {
    expect(existsSync(join(ROOT, 'dist', 'pidone.cjs.cache'))).toBe(true);
    const r = run(['-vv', '--log-format', 'json', '--', 'sh', '-c', 'exit 7']);
    expect(r.status).toBe(7);
    expect(codeCacheOf(r.stderr)).toBe('used');
  });

  /** The cache broken three ways: pidone runs as usual and says which. */
  const brokenCaches: Array<[string, (cache: string) => void, string]> = [
    [
      'a cache for another build is not used',
      (cache) => {
        const bytes = readFileSync(cache);
        bytes.write('0'.repeat(32), 0, 'latin1');
        writeFileSync(cache, bytes);
      },
      'none',
    ],
    [
      'a corrupt cache for this build is rejected by V8',
      (cache) => {
        const bytes = readFileSync(cache);
        bytes.fill(0x5a, 32);
        writeFileSync(cache, bytes);
      },
      'rejected',
    ],
    ['no cache: pidone compiles', (cache) => rmSync(cache), 'none'],
  ];
  for (const [name, breakCache, expected] of brokenCaches) {
    it(`${name}, and pidone runs as usual`, () => {
      const dir = copyOfPackage();
      breakCache(join(dir, 'dist', 'pidone.cjs.cache'));
      const r = run(['-vv', '--log-format', 'json', '--', 'sh', '-c', 'exit 7'], {}, join(dir, 'bin', 'pidone'));
      expect(r.status).toBe(7);
      expect(codeCacheOf(r.stderr)).toBe(expected);
    });
  }

  it('no bundle: one line that says what is missing and what to run, exit 1, nothing spawned', () => {
    const dir = copyOfPackage();
    rmSync(join(dir, 'dist', 'pidone.cjs'));
    const marker = join(dir, 'spawned');
    const r = run(['--', 'touch', marker], {}, join(dir, 'bin', 'pidone'));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`pidone: cannot read ${join(dir, 'dist', 'pidone.cjs')} (ENOENT): run 'npm run build' in ${dir}\n`);
    expect(existsSync(marker)).toBe(false);
  });
});
