/**
 * The start-up window: from the launcher's execve (bin/pidone, sh) through Node's own
 * start to the moment pidone's signal handlers are in (docs/security.md). What may
 * happen in it, what may not, and the limits (RLIMIT_NOFILE, pids.max) that used to
 * break Node's start in ways that looked like the child's doing.
 *
 * The startat fixture starts pidone and acts on it at a chosen moment counted from an
 * execve: it sends a signal, or its parent (startat itself) exits.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseLauncherRecord } from '../../src/boot.js';
import { caughtSignals } from '../../src/signal-policy.js';
import { signalNumber } from '../../src/signals.js';
import { fixture, PIDONE, PIDONE_SH, ROOT } from '../helpers/paths.js';
import { describeWithNamespaces } from '../helpers/privilege.js';
import { MODES, poll, startPidone, type Mode, type PidoneRun } from '../helpers/run-pidone.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pidone-startup-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function statOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return '';
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** One startat run: its output lines as they come, and how it ended. */
class StartAt {
  out = '';
  readonly ended: Promise<void>;
  private waiters: Array<() => void> = [];

  constructor(readonly proc: ChildProcess) {
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (chunk: string) => {
      this.out += chunk;
      for (const w of this.waiters) w();
    });
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (chunk: string) => {
      this.out += chunk;
    });
    this.ended = new Promise((resolve) => proc.on('close', () => resolve()));
    cleanups.push(() => {
      const pid = this.pid();
      if (pid !== undefined) killQuietly(pid);
      proc.kill('SIGKILL');
    });
  }

  /** pidone's pid as the host sees it. */
  pid(): number | undefined {
    const m = /^pid (\d+)$/m.exec(this.out);
    return m ? Number(m[1]) : undefined;
  }

  /** How pidone ended: "exit N" or "signal N" (startat waits for it). */
  end(): string | undefined {
    return /^(exit \d+|signal \d+)$/m.exec(this.out)?.[1];
  }

  /** Resolves when `re` matches the output, or when startat has ended (undefined). */
  waitFor(re: RegExp): Promise<RegExpMatchArray | undefined> {
    return new Promise((resolve) => {
      const check = () => {
        const m = this.out.match(re);
        if (m) {
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve(m);
        }
      };
      this.waiters.push(check);
      void this.ended.then(() => resolve(this.out.match(re) ?? undefined));
      check();
    });
  }
}

function startAt(options: string[], command: string[], env: NodeJS.ProcessEnv = {}): StartAt {
  const proc = spawn(fixture('startat'), [...options, '--', ...command], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  return new StartAt(proc);
}

/** A busy loop per core, for as long as the test runs. */
function loadEveryCore(): () => void {
  const loops = Array.from({ length: availableParallelism() }, () =>
    spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }),
  );
  return () => {
    for (const l of loops) l.kill('SIGKILL');
  };
}

/** Sockets listening on `port` in the network namespace of process `pid` (proc(5), /proc/PID/net/tcp). */
function listenersOn(pid: number, port: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/net/tcp`, 'latin1') + readFileSync(`/proc/${pid}/net/tcp6`, 'latin1');
  } catch {
    return undefined;
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  // sl local_address rem_address st ...; st 0A is TCP_LISTEN.
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1]?.endsWith(`:${hexPort}`) && f[3] === '0A').length;
}

const SIGUSR1 = 10;
const SIGTERM = 15;

for (const mode of MODES) {
  const pidNs = mode === 'pid1' ? ['--pid-ns'] : [];

  describeWithNamespaces(`SIGUSR1 at start, as ${mode === 'pid1' ? 'PID 1' : 'a subreaper'}`, () => {
    /**
     * SIGUSR1 at each delay from the launcher's execve, in pidone's own network
     * namespace (loopback up): Node's inspector would listen on 127.0.0.1:9229 there.
     * What may happen: the signal is forwarded to the child (caught by pidone, at once
     * or held until its handlers are in); lost (PID 1: the kernel drops a signal with
     * no handler); pidone killed by it (not PID 1: SIGUSR1's default action) before
     * anything ran. Never a listening socket.
     */
    async function sweep(delaysMs: number[]): Promise<Map<string, number[]>> {
      const outcomes = new Map<string, number[]>();
      const opened: string[] = [];
      for (const delay of delaysMs) {
        const run = startAt(
          [...pidNs, '--net-ns', '--delay-us', String(delay * 1000), '--signal', String(SIGUSR1)],
          [PIDONE, '--', 'sh', '-c', 'trap "echo usr1" USR1; echo ready; i=0; while [ $i -lt 10 ]; do sleep 0.02; i=$((i + 1)); done'],
        );
        const ready = await run.waitFor(/^ready$/m);
        const pid = run.pid();
        if (ready && pid !== undefined) {
          // The inspector starts from a thread of its own soon after the signal.
          await new Promise((r) => setTimeout(r, 100));
          const listening = listenersOn(pid, 9229);
          if (listening !== undefined && listening > 0) opened.push(`${delay} ms`);
        }
        await run.ended;
        const end = run.end();
        const outcome =
          end === 'exit 0' && /^usr1$/m.test(run.out)
            ? 'forwarded'
            : end === 'exit 138'
              ? 'forwarded (the child died of it before its trap)'
              : end === 'exit 0'
                ? 'lost'
                : end === 'signal 10'
                  ? 'killed pidone'
                  : `unexpected: ${run.out}`;
        outcomes.set(outcome, [...(outcomes.get(outcome) ?? []), delay]);
        if (run.out.includes('Debugger listening')) opened.push(`${delay} ms (Node said so)`);
      }
      expect(opened, `the inspector opened at ${opened.join(', ')}`).toEqual([]);
      const allowed = ['forwarded', 'forwarded (the child died of it before its trap)', mode === 'pid1' ? 'lost' : 'killed pidone'];
      expect([...outcomes.keys()].filter((o) => !allowed.includes(o))).toEqual([]);
      return outcomes;
    }

    /** Once pidone runs (its child is up): SIGUSR1 is forwarded, nothing listens. */
    async function afterStart(): Promise<void> {
      const run = startAt(
        [...pidNs, '--net-ns'],
        [PIDONE, '--', 'sh', '-c', 'trap "echo usr1; exit 0" USR1; echo ready; sleep 20 & wait'],
      );
      expect(await run.waitFor(/^ready$/m)).toBeDefined();
      const pid = run.pid()!;
      process.kill(pid, 'SIGUSR1');
      await run.ended;
      expect(run.end()).toBe('exit 0');
      expect(run.out).toMatch(/^usr1$/m);
      expect(run.out).not.toContain('Debugger listening');
    }

    const delays = (from: number, step: number) => Array.from({ length: Math.floor((150 - from) / step) + 1 }, (_, i) => from + i * step);

    it('0-150 ms after exec, every 3 ms: the inspector never listens on 9229', async () => {
      await sweep(delays(0, 3));
      await afterStart();
    }, 240_000);

    it('the same under CPU load (a busy loop per core), every 5 ms from 1 ms', async () => {
      const stop = loadEveryCore();
      cleanups.push(stop);
      await sweep(delays(1, 5));
      await afterStart();
    }, 400_000);
  });

  describeWithNamespaces(`SIGTERM at start, as ${mode === 'pid1' ? 'PID 1' : 'a subreaper'}`, () => {
    it('a SIGTERM that comes while the launcher runs (before Node) reaches the child', async () => {
      // Try until startat saw SIGTERM caught while the launcher still ran (a loaded
      // machine may let the poll first see it in Node). The native launcher runs for
      // about a millisecond: a Node whose `--version` is slow to answer (dist/node-flags
      // is for another Node, so the launcher asks it) holds it there for the poll.
      const dir = tempDir();
      const slowNode = join(dir, 'node');
      writeFileSync(slowNode, `#!/bin/sh\n[ "$1" = --version ] && sleep 0.5\nexec ${process.execPath} "$@"\n`, { mode: 0o755 });
      for (let attempt = 0; attempt < 10; attempt++) {
        const run = startAt(
          [...pidNs, '--when-caught', String(SIGTERM), '--after-exec', '2', '--signal', String(SIGTERM)],
          [PIDONE, '--', 'sh', '-c', `trap 'echo term; exit 0' TERM; echo ready; sleep 30 & wait`],
          { PIDONE_NODE: slowNode },
        );
        const caughtIn = (await run.waitFor(/^caught-in (.*)$/m))?.[1];
        if (caughtIn === undefined || caughtIn.endsWith('/node')) {
          killQuietly(run.pid() ?? -1);
          await run.ended;
          continue;
        }
        // The launcher (sh) had it caught: it must be acted on, not lost, and pidone
        // must not die of it (the child would then never hear of it).
        await run.ended;
        expect(run.end()).toMatch(/^exit (0|143)$/);
        if (run.end() === 'exit 0') expect(run.out).toMatch(/^term$/m);
        return;
      }
      throw new Error('the launcher never had SIGTERM caught before it exec\'d Node (10 tries)');
    }, 120_000);
  });
}

describeWithNamespaces('limits that Node must fit in', () => {
  it('pids.max 1-5: the command runs, or one "pidone: ..." line and exit 1, within seconds', () => {
    const cgroupRoot = '/sys/fs/cgroup/pids';
    expect(existsSync(join(cgroupRoot, 'cgroup.procs'))).toBe(true);
    const group = join(cgroupRoot, `pidone-startup-${process.pid}`);
    mkdirSync(group);
    cleanups.push(() => rmSync(group, { recursive: true, force: true }));
    const dir = tempDir();
    const results: string[] = [];
    for (let max = 1; max <= 5; max++) {
      writeFileSync(join(group, 'pids.max'), String(max));
      const marker = join(dir, `ran-${max}`);
      const r = spawnSync('sh', ['-c', `echo $$ > ${group}/cgroup.procs && exec ${PIDONE} -- touch ${marker}`], {
        encoding: 'utf8',
        timeout: 20_000,
        killSignal: 'SIGKILL',
      });
      const ran = existsSync(marker);
      results.push(`${max}: ${r.status ?? r.signal} ${ran ? 'ran' : JSON.stringify(r.stderr)}`);
      if (r.status === 0 && ran) continue;
      expect(r.status, `pids.max ${max}: ${results.join('; ')}`).toBe(1);
      expect(r.stderr).toMatch(/^pidone: [^\n]+\n$/);
      expect(ran).toBe(false);
    }
    // Some limit in the range is enough for pidone and the command.
    expect(results.some((r) => r.endsWith('ran')), results.join('; ')).toBe(true);
  }, 200_000);

  /**
   * RLIMIT_NOFILE soft/hard for pidone through the sh launcher (the native one:
   * launcher-native.test.ts); the child prints what it got.
   */
  function withNofile(soft: number, hard: number) {
    const run = spawnSync(
      fixture('startat'),
      ['--nofile', String(soft), '--nofile-hard', String(hard), '--', PIDONE_SH, '--', 'sh', '-c', 'echo "child $(ulimit -Sn) $(ulimit -Hn)"'],
      { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return { out: run.stdout, err: run.stderr, end: /^(exit \d+|signal \d+)$/m.exec(run.stdout)?.[1] };
  }

  // dash, the sh that runs the launcher, reads its script through an fd it moves to 10
  // or above (fcntl F_DUPFD 10), and saves an fd it redirects there too: below 11 it
  // stops before the script's first line; at 11 the script runs but no redirection
  // works (docs/security.md).
  const DASH_FD = 10;

  it('RLIMIT_NOFILE too low for Node, hard limit higher: pidone runs, the child gets the limits pidone got', () => {
    for (let soft = DASH_FD + 2; soft <= 32; soft++) {
      const r = withNofile(soft, 4096);
      expect(r.end, `soft ${soft}: ${r.out} ${r.err}`).toBe('exit 0');
      expect(r.out).toContain(`child ${soft} 4096\n`);
      expect(r.err).toBe('');
    }
    // At 11 the launcher's first redirection fails (dash says so), then it finds the
    // limit another way.
    const r = withNofile(DASH_FD + 1, 4096);
    expect(r.end).toBe('exit 0');
    expect(r.out).toContain(`child ${DASH_FD + 1} 4096\n`);
    expect(r.err).toMatch(/^\S*pidone: \d+: 0: Too many open files\n$/);
  }, 180_000);

  it('RLIMIT_NOFILE too low for Node, hard limit too: one "pidone: ..." line naming the limit, exit 1', () => {
    const outcomes: string[] = [];
    for (let limit = DASH_FD + 2; limit <= 40; limit++) {
      const r = withNofile(limit, limit);
      if (r.end === 'exit 0') {
        expect(r.out).toContain(`child ${limit} ${limit}\n`);
        outcomes.push(`${limit}: ran`);
        continue;
      }
      expect(r.end, `limit ${limit}: ${r.out} ${r.err}`).toBe('exit 1');
      expect(r.err).toMatch(
        new RegExp(`^pidone: the open files limit \\(RLIMIT_NOFILE, ulimit -n\\) is ${limit}, hard limit ${limit}; pidone needs \\d+ [^\\n]*\\n$`),
      );
      expect(r.out).not.toContain('child');
      outcomes.push(`${limit}: refused`);
    }
    expect(outcomes[0]).toBe(`${DASH_FD + 2}: refused`);
    expect(outcomes[outcomes.length - 1]).toBe('40: ran');
    // Soft 11, hard 12-: the message as well, after dash's line.
    const r = withNofile(DASH_FD + 1, 20);
    expect(r.end).toBe('exit 1');
    expect(r.err).toMatch(/^\S*pidone: \d+: 0: Too many open files\npidone: the open files limit \(RLIMIT_NOFILE, ulimit -n\) is 11, hard limit 20; [^\n]*\n$/);
  }, 180_000);

  it('RLIMIT_NOFILE 3-11 (hard limit too): the shell cannot run the launcher; what it says (docs/security.md)', () => {
    for (let limit = 4; limit <= DASH_FD; limit++) {
      const r = withNofile(limit, limit);
      expect(r.end, `limit ${limit}`).toBe('exit 2');
      expect(r.err).toBe('/bin/sh: 0: 3: Invalid argument\n');
    }
    // At 11 dash runs the script, which can neither read the limit nor write to stderr.
    const at11 = withNofile(DASH_FD + 1, DASH_FD + 1);
    expect(at11.end).toBe('exit 1');
    expect(at11.err).toMatch(/^\S*pidone: \d+: 0: Too many open files\n$/);
    // At 3 the dynamic loader cannot even open libc for sh.
    expect(withNofile(3, 3).end).toBe('exit 127');
  }, 60_000);
});

describeWithNamespaces('fds and the parent', () => {
  const running: PidoneRun[] = [];
  afterEach(() => {
    for (const run of running.splice(0)) run.kill('SIGKILL');
  });

  for (const mode of MODES) {
    it(`with fds 3-9 all inherited, the child gets exactly 0-9 (not the launcher's script), as ${mode}`, async () => {
      const dir = tempDir();
      const extra: number[] = [];
      for (let fd = 3; fd <= 9; fd++) extra.push(openSync(join(dir, `fd${fd}`), 'w'));
      cleanups.push(() => extra.forEach((fd) => closeSync(fd)));
      const run = startPidone(mode, ['--', fixture('probe')], {
        stdio: ['pipe', 'pipe', 'pipe', ...extra],
        keepFds: { keep: '0,1,2,3,4,5,6,7,8,9' },
      });
      running.push(run);
      expect((await run.exited).code).toBe(0);
      const probe = JSON.parse(run.stdout.trim()) as Record<string, unknown>;
      expect(probe['fds']).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });
  }

  it('--pdeathsig: a parent that dies while Node starts (after the launcher began) is noticed', async () => {
    // startat is pidone's parent; it exits as soon as pidone catches SIGTERM: the
    // launcher's handler (the native launcher, build/Release/pidone, or the sh one's
    // trap past its first line), or at the latest Node's own handler, installed as Node
    // starts, before any of pidone's JavaScript runs.
    const run = startAt(
      ['--when-caught', String(SIGTERM), '--after-exec', '99', '--orphan'],
      [PIDONE, '-v', '--log-format', 'json', '--pdeathsig', 'TERM', '--', 'sleep', '30'],
    );
    const pid = Number((await run.waitFor(/^pid (\d+)$/m))![1]);
    cleanups.push(() => killQuietly(pid));
    expect((await run.waitFor(/^caught-in (\/.*)$/m))?.[1]).toMatch(/\/(pidone|dash|sh|node)$/);
    // pidone acts as if SIGTERM had come: the child ends, and so does pidone (an
    // orphan now, so its end is seen in /proc: gone, or a zombie of its new parent).
    await poll(() => (/^\d+ \(.*\) [ZX]/.test(statOf(pid)) || statOf(pid) === '' ? true : undefined), 20_000, 'pidone to end').catch(
      (e: Error) => {
        throw new Error(`${e.message}; startat and pidone said: ${run.out}`);
      },
    );
    expect(run.out).toContain('parent died before --pdeathsig was set; acting as if the signal came');
  }, 60_000);

  it('the launcher leaves the environment alone: the child gets every variable unchanged', () => {
    // Names a shell script might use for its own variables; the launcher's are pidone_*.
    const names = ['_', 'f', 'fd', 'fds', 'flags', 'name', 'node', 'dir', 'root', 'version', 'max', 'current', 'soft', 'hard', 'path', 's'];
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const n of names) env[n] = `kept ${n}`;
    const r = spawnSync(PIDONE, ['--', 'env'], { encoding: 'utf8', timeout: 30_000, env });
    expect(r.status).toBe(0);
    const got = new Map(r.stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    for (const n of names) expect(got.get(n), n).toBe(`kept ${n}`);
  });

  it('the child never sees the launcher\'s variables', () => {
    const r = spawnSync(PIDONE, ['--', 'sh', '-c', 'env | grep "^PIDONE_" || echo none'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('none\n');
  });
});

describe('PIDONE_LAUNCHER is trusted only for the pid it was written for', () => {
  it('parses the record of this very pid', () => {
    expect(parseLauncherRecord('pid=42 ppid=7 nofile=12 signals=15,10', 42)).toEqual({ ppid: 7, nofileSoft: 12, signals: [15, 10] });
    expect(parseLauncherRecord('pid=42 ppid=7 nofile= signals=', 42)).toEqual({ ppid: 7, nofileSoft: null, signals: [] });
  });

  it('ignores a record for another pid (an outer pidone\'s, inherited) and malformed ones', () => {
    expect(parseLauncherRecord('pid=41 ppid=7 nofile= signals=15', 42)).toBeNull();
    expect(parseLauncherRecord('pid=42 ppid=7', 42)).toBeNull();
    expect(parseLauncherRecord(undefined, 42)).toBeNull();
  });
});

describe('the signals the launcher catches before boot()', () => {
  it('the sh half traps, and the JS half catches first, the same signals, all of them ones pidone catches', () => {
    const launcher = readFileSync(PIDONE_SH, 'utf8');
    const trapped = /^for pidone_sig in ([\d ]+); do\n  trap /m.exec(launcher)![1]!.split(' ').map(Number);
    const rt = /^pidone_sig=(\d+)\nwhile \[ \$pidone_sig -le (\d+) \]; do\n  trap /m.exec(launcher)!;
    for (let n = Number(rt[1]); n <= Number(rt[2]); n++) trapped.push(n);
    const early = /installSignalHandlers\(\s*\[([\d, ]+)\]\.concat\(\s*Array\.from\(\{ length: (\d+) \}, \(_, i\) => (\d+) \+ i\)/.exec(launcher)!;
    const caughtFirst = early[1]!.split(',').map((n) => Number(n.trim()));
    for (let i = 0; i < Number(early[2]); i++) caughtFirst.push(Number(early[3]) + i);
    expect(caughtFirst).toEqual(trapped);
    const caught = new Set(caughtSignals().map((name) => signalNumber(name)));
    expect(trapped.filter((n) => !caught.has(n))).toEqual([]);
  });
});

describe("Node's flags: those this Node accepts, never an unknown one", () => {
  /** A copy of the package (bin/ and dist/; the addon and node_modules linked). */
  function copyOfPackage(): string {
    const dir = tempDir();
    cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
    cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    symlinkSync(join(ROOT, 'build'), join(dir, 'build'));
    return dir;
  }

  /** The flags pidone's Node was started with, as its child reads them. */
  function nodeFlagsOf(launcher: string): string[] {
    const r = spawnSync(launcher, ['--', 'sh', '-c', 'tr "\\0" "\\n" </proc/$PPID/cmdline'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return r.stdout.split('\n').filter((a) => a.startsWith('--'));
  }

  const GUARD = /^--(disable-sigusr1|permission|experimental-permission)$/;

  it('the build recorded them for this Node, and pidone runs with them', () => {
    const [node, flags] = readFileSync(join(ROOT, 'dist', 'node-flags'), 'utf8').split('\n');
    expect(node).toBe(process.execPath);
    expect(flags!.split(' ').some((f) => GUARD.test(f))).toBe(true);
    expect(nodeFlagsOf(PIDONE).some((f) => GUARD.test(f))).toBe(true);
  });

  const records: Array<[string, (file: string) => void]> = [
    ['no dist/node-flags', (file) => rmSync(file)],
    ['a record for another program', (file) => writeFileSync(file, '/bin/sh\n--no-such-flag\n3\n')],
    [
      'a record older than the Node binary (Node replaced in place)',
      (file) => {
        writeFileSync(file, `${process.execPath}\n--no-such-flag\n3\n`);
        utimesSync(file, new Date(0), new Date(0));
      },
    ],
  ];
  for (const [name, breakRecord] of records) {
    it(`${name}: the flags come from \`node --version\`, and the guard is there`, () => {
      const dir = copyOfPackage();
      breakRecord(join(dir, 'dist', 'node-flags'));
      const flags = nodeFlagsOf(join(dir, 'bin', 'pidone'));
      expect(flags).not.toContain('--no-such-flag');
      expect(flags.some((f) => GUARD.test(f))).toBe(true);
    });
  }
});
