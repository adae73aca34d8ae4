/**
 * The native launcher (native/launcher.c): what bin/pidone's sh half did, without what a
 * shell brings with it. A low RLIMIT_NOFILE that stopped dash before its first line; an
 * environment that dash imported in quadratic time and rewrote (PWD, duplicates,
 * entries without '='); a parent read a millisecond late; and argv[0], which the
 * kernel replaces by the script's path for `#!`, so tini's and dumb-init's help named
 * a path. Real kernel, real tini and dumb-init (Debian's) to compare with.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseLauncherRecord } from '../../src/boot.js';
import { NODE_STARTUP_VARS } from '../../src/environment.js';
import { fixture, PIDONE, PIDONE_NATIVE, PIDONE_SH, ROOT } from '../helpers/paths.js';
import { describeWithNamespaces } from '../helpers/privilege.js';
import { poll } from '../helpers/run-pidone.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pidone-native-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const TINI = '/usr/bin/tini';
const DUMB_INIT = '/usr/bin/dumb-init';
const b = (s: string) => Buffer.from(s, 'utf8');

describe('the native launcher is what the suite runs', () => {
  it('is built (npm run install), and test/helpers/paths.ts runs it', () => {
    expect(existsSync(PIDONE_NATIVE), `${PIDONE_NATIVE}: run 'npm run install'`).toBe(true);
    expect(PIDONE).toBe(PIDONE_NATIVE);
    // An ELF program, not a script.
    expect(readFileSync(PIDONE_NATIVE).subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  });

  it('catches the same signals as the sh half, and holds aside the same Node start-up variables', () => {
    const c = readFileSync(join(ROOT, 'native', 'launcher.c'), 'utf8');
    const low = /kNotedLow\[\] = \{([\d, ]+)\}/.exec(c)![1]!.split(',').map((n) => Number(n.trim()));
    const rt = [Number(/#define NOTED_RT_FIRST (\d+)/.exec(c)![1]), Number(/#define NOTED_RT_LAST (\d+)/.exec(c)![1])] as const;
    for (let n = rt[0]; n <= rt[1]; n++) low.push(n);
    const sh = readFileSync(PIDONE_SH, 'utf8');
    const trapped = /^for pidone_sig in ([\d ]+); do\n {2}trap /m.exec(sh)![1]!.split(' ').map(Number);
    const shRt = /^pidone_sig=(\d+)\nwhile \[ \$pidone_sig -le (\d+) \]; do\n {2}trap /m.exec(sh)!;
    for (let n = Number(shRt[1]); n <= Number(shRt[2]); n++) trapped.push(n);
    expect(low).toEqual(trapped);
    const vars = /kStartupVars\[\] = \{([^}]+)\}/.exec(c)![1]!.match(/"([A-Z0-9_]+)"/g)!.map((s) => s.slice(1, -1));
    expect(vars).toEqual([...NODE_STARTUP_VARS]);
  });

  it('PIDONE_LAUNCHER carries the name pidone was run as, whatever it holds', () => {
    expect(parseLauncherRecord('pid=42 ppid=7 nofile=12 signals=15 argv0=tini', 42)).toEqual({
      ppid: 7,
      nofileSoft: 12,
      signals: [15],
      argv0: 'tini',
    });
    expect(parseLauncherRecord('pid=42 ppid=7 nofile= signals= argv0=a b=c\nd', 42)?.argv0).toBe('a b=c\nd');
    expect(parseLauncherRecord('pid=42 ppid=7 nofile= signals=', 42)?.argv0).toBeUndefined();
  });
});

describeWithNamespaces('RLIMIT_NOFILE (item 12)', () => {
  /** pidone under `prlimit --nofile=SOFT:HARD`; the child prints the limits it got (builtins only: no pipe). */
  function withNofile(soft: number, hard: number, marker: string) {
    const r = spawnSync(
      'prlimit',
      [`--nofile=${soft}:${hard}`, PIDONE, '--', 'sh', '-c', `touch ${marker}; ulimit -Sn; ulimit -Hn`],
      { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' },
    );
    return { status: r.status, signal: r.signal, out: r.stdout, err: r.stderr, ran: existsSync(marker) };
  }

  it('every limit from 3 to 40 (soft = hard): the command runs, or one "pidone: ..." line and exit 1; never 2, 134 or 139', () => {
    const dir = tempDir();
    const outcomes: string[] = [];
    for (let limit = 3; limit <= 40; limit++) {
      const r = withNofile(limit, limit, join(dir, `ran-${limit}`));
      const what = `limit ${limit}: ${r.status ?? r.signal} ${JSON.stringify(r.out)} ${JSON.stringify(r.err)}`;
      if (r.status === 0) {
        expect(r.ran, what).toBe(true);
        expect(r.out, what).toBe(`${limit}\n${limit}\n`);
        expect(r.err, what).toBe('');
        outcomes.push(`${limit}: ran`);
        continue;
      }
      expect(r.status, what).toBe(1);
      expect(r.ran, what).toBe(false);
      expect(r.err, what).toMatch(
        new RegExp(
          `^pidone: the open files limit \\(RLIMIT_NOFILE, ulimit -n\\) is ${limit}, hard limit ${limit}; pidone needs (\\d+) \\(Node's own files and the fds open now\\): raise it \\(docker run --ulimit nofile=\\1\\)\\n$`,
        ),
      );
      outcomes.push(`${limit}: refused`);
    }
    // Refused below what it needs, runs from there on: one switch, no other outcome.
    expect(outcomes[0]).toBe('3: refused');
    expect(outcomes[outcomes.length - 1]).toBe('40: ran');
    const firstRun = outcomes.findIndex((o) => o.endsWith('ran'));
    expect(outcomes.slice(firstRun).every((o) => o.endsWith('ran')), outcomes.join('; ')).toBe(true);
  }, 300_000);

  it('a soft limit of 3-24 under a higher hard limit: pidone raises its own, the child gets the soft limit it was given', () => {
    const dir = tempDir();
    // At 3 the child's own dynamic loader has no fd for libc (EMFILE, 24): the child
    // fails (127, what its loader says); pidone itself ran it and says nothing.
    const at3 = withNofile(3, 4096, join(dir, 'ran-3'));
    expect(at3.status).toBe(127);
    expect(at3.err).toMatch(/^sh: error while loading shared libraries: [^\n]*Error 24\n$/);
    for (let soft = 4; soft <= 24; soft++) {
      const r = withNofile(soft, 4096, join(dir, `ran-${soft}`));
      expect(r.status, `soft ${soft}: ${r.out} ${r.err}`).toBe(0);
      expect(r.out).toBe(`${soft}\n4096\n`);
      expect(r.err).toBe('');
    }
  }, 300_000);
});

/** execve through the rawexec fixture: argv and environment byte for byte; the command's output. */
function rawexec(argv: Buffer[], env: Buffer[], options: { cwd: string; bulk?: number }) {
  const dir = tempDir();
  const nulTerminated = (entries: Buffer[]) => Buffer.concat(entries.flatMap((e) => [e, Buffer.of(0)]));
  writeFileSync(join(dir, 'argv'), nulTerminated(argv));
  writeFileSync(join(dir, 'env'), nulTerminated(env));
  return { argvFile: join(dir, 'argv'), envFile: join(dir, 'env'), bulk: String(options.bulk ?? 0), cwd: options.cwd };
}

/** What showbytes printed as its environment, entry by entry (Latin-1: one character per byte). */
function environmentSeen(argv: Buffer[], env: Buffer[], cwd: string, bulk = 0): string[] {
  const files = rawexec(argv, env, { cwd, bulk });
  const r = spawnSync(fixture('rawexec'), [files.argvFile, files.envFile, files.bulk], {
    cwd,
    encoding: 'latin1',
    maxBuffer: 256 << 20,
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('env '))
    .map((l) => Buffer.from(l.slice(4), 'hex').toString('latin1'));
}

describe('the environment, byte for byte (item 9)', () => {
  // Everything dash changed: duplicates (collapsed to the last), entries without '='
  // and with an empty name (dropped), an empty entry, PWD naming another directory
  // (rewritten), a PWD-less environment (PWD added); and the Node start-up variables
  // the launcher holds aside, twice and once without '='.
  const ENV = [
    b('A=1'),
    b('NOEQ'),
    b('A=2'),
    b('=empty name'),
    b(''),
    b('PWD=/nowhere/else'),
    Buffer.concat([b('LATIN1_'), Buffer.of(0xe9), b('='), Buffer.of(0xff)]),
    b('NODE_OPTIONS=--x'),
    b('NODE_OPTIONS'),
    b('NODE_OPTIONS=--y'),
    b('PIDONE_NODE_LIKE=1'),
    b('Z=z'),
  ];

  it('the child gets what tini passes, entry for entry, in order, PWD untouched', () => {
    const dir = tempDir();
    const viaTini = environmentSeen([b(TINI), b('-s'), b('--'), b(fixture('showbytes'))], ENV, dir);
    const viaPidone = environmentSeen([b(PIDONE), b('--'), b(fixture('showbytes'))], ENV, dir);
    expect(viaTini).toEqual(ENV.map((e) => e.toString('latin1')));
    expect(viaPidone).toEqual(viaTini);
  });

  it('the same for an environment without PWD (dash would add one)', () => {
    const dir = tempDir();
    const env = [b('A=1'), b('A=2'), b('NOEQ')];
    expect(environmentSeen([b(PIDONE), b('--'), b(fixture('showbytes'))], env, dir)).toEqual(['A=1', 'A=2', 'NOEQ']);
  });

  it("an inherited launcher record is not the child's, nor pidone's", () => {
    const dir = tempDir();
    const env = [b('PIDONE_LAUNCHER=pid=1 ppid=0 nofile= signals=15'), b('PIDONE_LAUNCHER_FDS=1:3'), b('PIDONE_SAVED_NODE_OPTIONS=--z'), b('K=v')];
    expect(environmentSeen([b(PIDONE), b('--'), b(fixture('showbytes'))], env, dir)).toEqual(['K=v']);
  });
});

describe('start-up and the size of the environment (item 15)', () => {
  /** CPU seconds (user + system) of pidone and everything it waited for, from the shell's `times`. */
  function cpuSeconds(count: number, dir: string): number {
    const files = rawexec([b(PIDONE), b('--'), b('true')], [b('PATH=/usr/bin:/bin')], { cwd: dir, bulk: count });
    const r = spawnSync('sh', ['-c', `"$0" "$1" "$2" "$3" >/dev/null || exit 1; times`, fixture('rawexec'), files.argvFile, files.envFile, files.bulk], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
      killSignal: 'SIGKILL',
    });
    expect(r.status, r.stderr).toBe(0);
    // times: the shell's own user and system time, then its children's.
    const children = r.stdout.trim().split('\n')[1]!.split(/\s+/);
    const seconds = (t: string) => {
      const m = /^(\d+)m([\d.]+)s$/.exec(t)!;
      return Number(m[1]) * 60 + Number(m[2]);
    };
    return seconds(children[0]!) + seconds(children[1]!);
  }

  it('80,000 variables cost no more than about 4 times 20,000 (linear, loosely), and all reach the child in order', () => {
    const dir = tempDir();
    const t20 = Math.min(cpuSeconds(20_000, dir), cpuSeconds(20_000, dir));
    const t80 = Math.min(cpuSeconds(80_000, dir), cpuSeconds(80_000, dir));
    // Quadratic (dash's import) was 1.0 s and 7.8 s; linear is about 4x, with a generous constant.
    expect(t80, `20,000: ${t20} s, 80,000: ${t80} s of CPU`).toBeLessThanOrEqual(4 * t20 + 0.5);
    const seen = environmentSeen([b(PIDONE), b('--'), b(fixture('showbytes'))], [b('FIRST=1')], dir, 80_000);
    expect(seen.length).toBe(80_001);
    expect(seen[0]).toBe('FIRST=1');
    for (let i = 0; i < 80_000; i++) if (seen[i + 1] !== `B${i}=x`) expect(seen[i + 1]).toBe(`B${i}=x`);
  }, 120_000);
});

describeWithNamespaces('--pdeathsig (item 14)', () => {
  it('a parent that dies as soon as the launcher runs is noticed (the parent was read before that)', async () => {
    // startat exits the moment the launcher catches SIGTERM: its handlers go in right
    // after its first instruction read the parent. The launcher is held there for a
    // while (a Node whose `--version` is slow to answer; the record in dist/node-flags
    // is for another Node), so startat's polling cannot miss that moment.
    const dir = tempDir();
    const slowNode = join(dir, 'node');
    writeFileSync(slowNode, `#!/bin/sh\n[ "$1" = --version ] && sleep 1\nexec ${process.execPath} "$@"\n`, { mode: 0o755 });
    const proc = spawn(
      fixture('startat'),
      [
        ...['--when-caught', '15', '--caught-in', '/Release/pidone', '--after-exec', '99', '--orphan', '--'],
        ...[PIDONE, '-v', '--log-format', 'json', '--pdeathsig', 'TERM', '--', 'sleep', '30'],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PIDONE_NODE: slowNode } },
    );
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    const pid = Number((await poll(() => /^pid (\d+)$/m.exec(out) ?? undefined, 20_000, 'startat to start pidone'))[1]);
    cleanups.push(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone.
      }
    });
    const caughtIn = (await poll(() => /^caught-in (\S+)$/m.exec(out) ?? undefined, 20_000, 'the launcher to catch SIGTERM'))[1];
    expect(caughtIn).toBe(PIDONE_NATIVE);
    const stat = () => {
      try {
        return readFileSync(`/proc/${pid}/stat`, 'latin1');
      } catch {
        return '';
      }
    };
    await poll(() => (stat() === '' || /^\d+ \(.*\) [ZX]/.test(stat()) ? true : undefined), 20_000, `pidone to end; it said: ${out}`);
    expect(out).toContain('parent died before --pdeathsig was set; acting as if the signal came');
  }, 60_000);
});

describe('argv[0] as typed: called through PATH, the compat modes print what tini and dumb-init print', () => {
  const cases: Array<[string, string, string[]]> = [
    ['tini', TINI, ['-h']],
    ['tini', TINI, ['--version']],
    ['tini', TINI, []],
    ['tini', TINI, ['-x']],
    ['dumb-init', DUMB_INIT, ['--help']],
    ['dumb-init', DUMB_INIT, ['--version']],
    ['dumb-init', DUMB_INIT, []],
    ['dumb-init', DUMB_INIT, ['--bogus']],
  ];
  for (const [name, real, args] of cases) {
    it(`${name} ${args.join(' ')}: stdout, stderr and exit code byte for byte`, () => {
      const ours = tempDir();
      const theirs = tempDir();
      symlinkSync(PIDONE, join(ours, name));
      symlinkSync(real, join(theirs, name));
      const run = (dir: string) =>
        spawnSync(name, args, { cwd: dir, encoding: 'latin1', timeout: 30_000, env: { ...process.env, PATH: `${dir}:/usr/bin:/bin` } });
      const expected = run(theirs);
      const got = run(ours);
      expect({ status: got.status, stdout: got.stdout, stderr: got.stderr }).toEqual({
        status: expected.status,
        stdout: expected.stdout,
        stderr: expected.stderr,
      });
      // The bare name, as typed: no path in what either printed.
      expect(got.stdout + got.stderr).not.toContain(ours);
    });
  }
});

describeWithNamespaces('without /proc (a tmpfs over it, in a mount namespace of its own)', () => {
  it('the launcher finds itself (AT_EXECFN) and the inherited fds (fcntl): the child gets exactly 0-2, 3 and 7', () => {
    const dir = tempDir();
    const three = openSync(join(dir, 'three'), 'w');
    const seven = openSync(join(dir, 'seven'), 'w');
    cleanups.push(() => [three, seven].forEach((fd) => closeSync(fd)));
    // Which of 3-9 the child has open, asked with a redirection (no /proc to list; dash takes one digit).
    const child = 'for fd in 3 4 5 6 7 8 9; do { true >&$fd; } 2>/dev/null && printf "%s " $fd; done; echo';
    const script = `mount -t tmpfs tmpfs /proc && exec ${fixture('fdexec')} 0,1,2,3,7 -- ${PIDONE} -- sh -c '${child}'`;
    const r = spawnSync('unshare', ['--mount', 'sh', '-c', script], {
      encoding: 'utf8',
      timeout: 30_000,
      stdio: ['ignore', 'pipe', 'pipe', three, 'ignore', 'ignore', 'ignore', seven],
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('3 7 \n');
  });
});

describe('what the launcher cannot do: one line, exit 1, nothing spawned', () => {
  it('no Node: PIDONE_NODE names nothing', () => {
    const dir = tempDir();
    const marker = join(dir, 'ran');
    const r = spawnSync(PIDONE, ['--', 'touch', marker], { encoding: 'utf8', env: { ...process.env, PIDONE_NODE: join(dir, 'no-node') } });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`pidone: cannot run Node (${join(dir, 'no-node')}): No such file or directory; set PIDONE_NODE to a working node\n`);
    expect(existsSync(marker)).toBe(false);
  });

  it('no Node in PATH', () => {
    const dir = tempDir();
    const marker = join(dir, 'ran');
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: dir };
    delete env['PIDONE_NODE'];
    const r = spawnSync(PIDONE, ['--', '/usr/bin/touch', marker], { encoding: 'utf8', env });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("pidone: cannot find Node: no executable 'node' in PATH; put node in PATH or set PIDONE_NODE to its path\n");
    expect(existsSync(marker)).toBe(false);
  });
});
