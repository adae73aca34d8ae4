/**
 * argv and environ are bytes (execve(2)): the command, its arguments and its
 * environment must reach the child as pidone got them, whatever the bytes, as tini,
 * dumb-init or a shell pass them; and reading a large environment must cost linear
 * time. Node's child_process cannot pass bytes that are not UTF-8, duplicate names or
 * entries without '=', so pidone is started by the rawexec fixture (an execve with an
 * argv and an environment read byte for byte from files) and the command is the
 * showbytes fixture, which prints its argv and environ as hex.
 */
import { isUtf8 } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { bytesToString, decodeEntries, stringToBytes } from '../../src/environment.js';
import { fixture, PIDONE, PIDONE_SH, ROOT } from '../helpers/paths.js';
import { describeWithNamespaces } from '../helpers/privilege.js';
import { MODES, type Mode } from '../helpers/run-pidone.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const UNSHARE = ['/usr/bin/unshare', '--pid', '--fork', '--mount-proc'];
const b = (s: string) => Buffer.from(s, 'utf8');
const bytes = (...parts: Array<string | number[] | Buffer>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? b(p) : Buffer.isBuffer(p) ? p : Buffer.from(p))));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pidone-bytes-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Seen {
  ppid: number;
  argv: Buffer[];
  env: Buffer[];
}

/**
 * execve(argv[0], argv, env) through rawexec, in `cwd`, with `bulk` more variables
 * B<i>=x; returns what showbytes (the command) printed.
 */
function runRaw(argv: Buffer[], env: Buffer[], options: { cwd: string; bulk?: number; timeoutMs?: number }): Seen {
  const dir = tempDir();
  const nulTerminated = (entries: Buffer[]) => Buffer.concat(entries.flatMap((e) => [e, Buffer.of(0)]));
  writeFileSync(join(dir, 'argv'), nulTerminated(argv));
  writeFileSync(join(dir, 'env'), nulTerminated(env));
  const result = spawnSync(fixture('rawexec'), [join(dir, 'argv'), join(dir, 'env'), String(options.bulk ?? 0)], {
    cwd: options.cwd,
    encoding: 'latin1',
    maxBuffer: 256 << 20,
    timeout: options.timeoutMs ?? 30_000,
    // pidone catches SIGTERM: only SIGKILL ends one that is still reading its environment.
    killSignal: 'SIGKILL',
  });
  expect(result.error, `rawexec: ${String(result.error)}; stderr: ${result.stderr}`).toBeUndefined();
  expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  const seen: Seen = { ppid: -1, argv: [], env: [] };
  for (const line of result.stdout.split('\n')) {
    const [kind, value = ''] = line.split(' ');
    if (kind === 'ppid') seen.ppid = Number(value);
    if (kind === 'arg') seen.argv.push(Buffer.from(value, 'hex'));
    if (kind === 'env') seen.env.push(Buffer.from(value, 'hex'));
  }
  return seen;
}

/** Entries as Latin-1 text: one character per byte, so equal text is equal bytes, and a failure reads. */
const text = (entries: readonly Buffer[]) => entries.map((e) => e.toString('latin1'));
const sorted = (entries: readonly Buffer[]) => text(entries).sort();

/** A copy of showbytes whose file name is not UTF-8 (Latin-1 "probé"). */
function probeAtLatin1Path(dir: string): Buffer {
  const path = bytes(`${dir}/prob`, [0xe9]);
  copyFileSync(fixture('showbytes'), path);
  return path;
}

// Arguments that are not UTF-8, or are UTF-8 and must stay so.
const ARGUMENTS = [
  bytes('caf', [0xe9]), // Latin-1
  bytes([0xff, 0xfe]), // never valid UTF-8
  bytes([0xed, 0xb3, 0xa9]), // an encoded surrogate (U+DCE9), invalid UTF-8
  bytes([0xe2, 0x82]), // a truncated sequence
  b('é€𝄞'), // valid UTF-8, 2, 3 and 4 bytes
  b(''), // empty
];

// Values that are not text (no NUL: an environment entry cannot hold one), with names
// the shell launcher keeps (docs/usage.md, "What the child gets, byte for byte").
const VARIABLES = [
  bytes('BINARY=', [0xe9, 0x01, 0x7f, 0x80, 0xff]),
  bytes('SURROGATE=', [0xed, 0xa0, 0x80]),
  b('TEXT=é€𝄞'),
  b('EMPTY='),
  b('EQUALS=a=b'),
];

describe.each(MODES)('bytes, as %s', (mode: Mode) => {
  const describeIt = mode === 'pid1' ? describeWithNamespaces : describe;
  describeIt(`pidone ${mode === 'pid1' ? 'as PID 1' : 'as a subreaper'}`, () => {
    const prefix = mode === 'pid1' ? UNSHARE.map(b) : [];

    for (const [label, options] of [
      ['pidone', []],
      ['--pid-ns', ['--pid-ns']],
      ['--compat tini', ['--compat', 'tini', '-s']],
      ['--compat dumb-init', ['--compat', 'dumb-init']],
    ] as const) {
      it(`${label}: a command at a non-UTF-8 path, its arguments and binary variables reach the child byte for byte`, () => {
        const dir = tempDir();
        const probe = probeAtLatin1Path(dir);
        // PWD names the current directory, so the shell launcher keeps it as it is.
        const env = [
          b('PATH=/usr/local/bin:/usr/bin:/bin'),
          b(`PWD=${dir}`),
          ...VARIABLES,
          bytes('NODE_OPTIONS=--title=', [0xe9]), // held aside by the launcher, restored for the child
        ];
        const seen = runRaw([...prefix, b(PIDONE), ...options.map(b), b('--'), probe, ...ARGUMENTS], env, { cwd: dir });
        expect(text(seen.argv)).toEqual(text([probe, ...ARGUMENTS]));
        expect(sorted(seen.env)).toEqual(sorted(env));
        // As PID 1 (and with --pid-ns, under the namespace's pidone) the parent is pid 1.
        if (mode === 'pid1' || label === '--pid-ns') expect(seen.ppid).toBe(1);
        else expect(seen.ppid).toBeGreaterThan(1);
      });
    }

    it('a command looked up in a PATH that is not UTF-8', () => {
      const dir = tempDir();
      const bin = bytes(`${dir}/bin`, [0xe9]);
      mkdirSync(bin);
      copyFileSync(fixture('showbytes'), Buffer.concat([bin, b('/showbytes')]));
      // The launcher finds node through PIDONE_NODE, not through this PATH.
      const env = [bytes('PATH=', bin), b(`PWD=${dir}`), b(`PIDONE_NODE=${process.execPath}`)];
      const seen = runRaw([...prefix, b(PIDONE), b('--'), b('showbytes'), ARGUMENTS[0]!], env, { cwd: dir });
      expect(text(seen.argv)).toEqual(text([b('showbytes'), ARGUMENTS[0]!]));
      expect(sorted(seen.env)).toEqual(sorted(env));
    });
  });
});

describe('the environment, entry for entry', () => {
  // bin/pidone is also the JavaScript half, which Node runs as it is.
  const nodeRunsPidone = () => [b(process.execPath), b(PIDONE_SH)];

  it('Node running pidone without the shell launcher: duplicates, entries without "=", any name, in order', () => {
    const dir = tempDir();
    const env = [
      b('A=1'),
      b('NOEQ'),
      b('A=2'), // getenv(3) in the child must still see A=1
      b('=empty name'),
      b('my-var.x=3'),
      bytes('LATIN1_', [0xe9], '=', [0xe9]),
      b('PIDONE_LAUNCHER_FDS=1:'), // the launcher's own: never the child's
      b('PIDONE_SAVED_NODE_OPTIONS=--x'),
      b('Z=z'),
    ];
    const seen = runRaw([...nodeRunsPidone(), b('--'), b(fixture('showbytes'))], env, { cwd: dir });
    expect(text(seen.env)).toEqual(text([
      b('A=1'),
      b('NOEQ'),
      b('A=2'),
      b('=empty name'),
      b('my-var.x=3'),
      bytes('LATIN1_', [0xe9], '=', [0xe9]),
      b('NODE_OPTIONS=--x'),
      b('Z=z'),
    ]));
  });

  it('runInit() from a Node program: its default env is environ, entry for entry', () => {
    const dir = tempDir();
    const env = [b('A=1'), b('NOEQ'), b('A=2'), b('my-var=3'), bytes('BINARY=', [0xe9, 0xff])];
    const program = `import('${join(ROOT, 'dist', 'index.js')}').then(async ({ runInit }) => process.exit(await runInit({ command: ['${fixture('showbytes')}'] })))`;
    const seen = runRaw([b(process.execPath), b('-e'), b(program)], env, { cwd: dir });
    expect(text(seen.env)).toEqual(text(env));
  });

  it("through the shell launcher: its own shell variables leave the child's variables of the same names alone", () => {
    const dir = tempDir();
    const env = ['f', 'fd', 'fds', 'flags', 'name', '_'].map((n) => b(`${n}=the user's ${n}`));
    env.push(b('PATH=/usr/local/bin:/usr/bin:/bin'), b(`PWD=${dir}`));
    const seen = runRaw([b(PIDONE_SH), b('--'), b(fixture('showbytes'))], env, { cwd: dir });
    expect(sorted(seen.env)).toEqual(sorted(env));
  });

  // Reading the environment is linear: pidone used to read process.env name by name,
  // a scan of environ each (getenv(3)): 80,000 variables took 7.8 s, and 200,000 would
  // take about 50 s; linear, 200,000 take about a second. Node runs pidone directly:
  // the shell launcher's own start-up (dash's variable table) is not pidone's, and is
  // quadratic in its own right (docs/usage.md, "What the child gets, byte for byte").
  it('200,000 variables: pidone starts, and the child gets every one, in order, well within the timeout', () => {
    const dir = tempDir();
    const count = 200_000;
    const seen = runRaw([...nodeRunsPidone(), b('--'), b(fixture('showbytes'))], [b('FIRST=1')], {
      cwd: dir,
      bulk: count,
      timeoutMs: 30_000,
    });
    expect(seen.env.length).toBe(count + 1);
    expect(seen.env[0]!.toString('latin1')).toBe('FIRST=1');
    for (let i = 0; i < count; i++) {
      if (!seen.env[i + 1]!.equals(b(`B${i}=x`))) expect(seen.env[i + 1]!.toString('latin1')).toBe(`B${i}=x`);
    }
  }, 60_000);
});

describe('bytes in strings (src/environment.ts)', () => {
  it('decoding any bytes and encoding the string gives back the same bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (raw) => {
        const s = bytesToString(raw);
        expect(stringToBytes(s).equals(Buffer.from(raw))).toBe(true);
        // Valid UTF-8 reads as Node reads it.
        if (isUtf8(raw)) expect(s).toBe(Buffer.from(raw).toString('utf8'));
        else expect(s).toMatch(/[\uDC80-\uDCFF]/);
      }),
      { numRuns: 5000, seed: 7 },
    );
  });

  it('NUL-terminated entries, UTF-8 or not', () => {
    expect(decodeEntries(bytes('A=1', [0], 'B=', [0xe9, 0]))).toEqual(['A=1', 'B=\udce9']);
    expect(decodeEntries(bytes('A=é', [0], 'NOEQ', [0]))).toEqual(['A=é', 'NOEQ']);
    expect(decodeEntries(Buffer.alloc(0))).toEqual([]);
  });
});
