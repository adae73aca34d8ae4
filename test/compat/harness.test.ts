/**
 * Runs the compat harness (./harness.ts) for real: every case against Debian's tini
 * and dumb-init and against pidone standing in for them, both as `pidone --compat X`
 * and through a link named after the tool, as PID 1 of a PID namespace and as an
 * ordinary process; every log transcript under both, at every verbosity, compared
 * line by line; help, version and usage errors compared byte for byte.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fixture, PIDONE } from '../helpers/paths.js';
import { describeWithNamespaces, inCiAsRoot } from '../helpers/privilege.js';
import { childrenOf, poll, PidoneRun, readSignalLog } from '../helpers/run-pidone.js';
import {
  CASES,
  normaliseTranscript,
  placementsOf,
  runsOn,
  TERMINAL_TRANSCRIPTS,
  TRANSCRIPTS,
  VERBOSITIES,
  type Case,
  type Placement,
  type Step,
  type Tool,
  type Transcript,
  type Verbosity,
  type Who,
} from './harness.js';
import { parseDockerInitVersion, parseDockerInitVersionOld } from './docker-init-version.js';

const PEERS: Record<Tool, string> = { tini: '/usr/bin/tini', 'dumb-init': '/usr/bin/dumb-init' };

interface Subject {
  readonly label: string;
  readonly tool: Tool;
  readonly kind: 'peer' | 'pidone';
  readonly viaLink?: boolean;
  readonly command: (args: string[]) => string[];
}

/** Links to pidone named after the tools, made once. */
const linkDir = mkdtempSync(join(tmpdir(), 'pidone-compat-links-'));
for (const name of ['tini', 'docker-init', 'dumb-init']) symlinkSync(PIDONE, join(linkDir, name));
afterAll(() => rmSync(linkDir, { recursive: true, force: true }));

function subjects(tool: Tool): Subject[] {
  return [
    { label: PEERS[tool], tool, kind: 'peer', command: (args) => [PEERS[tool], ...args] },
    { label: `pidone --compat ${tool}`, tool, kind: 'pidone', command: (args) => [PIDONE, '--compat', tool, ...args] },
    { label: `pidone as a link named ${tool}`, tool, kind: 'pidone', viaLink: true, command: (args) => [join(linkDir, tool), ...args] },
  ];
}

/** Variables of the tools and of pidone's mode choice, kept out of every run unless a case sets them. */
const TOOL_VARS = /^(TINI_|DUMB_INIT_|PIDONE_COMPAT$|POSIXLY_CORRECT$)/;

function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!TOOL_VARS.test(k)) env[k] = v;
  return env;
}

interface Ready {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  grandchild: number;
}

/** One run of one case: the init, its agent's pids (as the host sees them), the logs. */
class CaseRun {
  readonly run: PidoneRun;
  ready: Ready | null = null;
  snapshot: { child: number[]; grandchild: number[] } | null = null;
  initHost = 0;
  childHost = 0;
  grandchildHost = 0;

  constructor(
    readonly c: Case,
    readonly placement: Placement,
    readonly dir: string,
    argv: string[],
    env: NodeJS.ProcessEnv,
  ) {
    let full = argv;
    if (placement === 'pid1') full = ['unshare', '--pid', '--fork', '--mount-proc', ...full];
    const proc = spawn(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env });
    this.run = new PidoneRun(proc, placement === 'pid1' ? 'pid1' : 'subreaper');
  }

  log(who: Who): number[] {
    return readSignalLog(join(this.dir, `${who}.log`));
  }

  async waitReady(): Promise<void> {
    // Fail at once when the init exits without starting the agent.
    const early = this.run.exited.then((exit) => {
      throw new Error(`the init exited (${exit.code ?? exit.signal}) before the agent was ready`);
    });
    const m = await Promise.race([this.run.waitForStdout(/ready (\{.*\})/), early]);
    early.catch(() => {});
    this.ready = JSON.parse(m[1]!) as Ready;
    this.initHost = await this.run.hostPid();
    if (this.placement === 'pid1') {
      this.childHost = await poll(() => childrenOf(this.initHost)[0], 10_000, 'the child');
      if (this.ready.grandchild > 0) this.grandchildHost = await poll(() => childrenOf(this.childHost)[0], 10_000, 'the grandchild');
    } else {
      this.childHost = this.ready.pid;
      this.grandchildHost = this.ready.grandchild;
    }
  }

  pidOf(who: 'init' | Who): number {
    const pid = who === 'init' ? this.initHost : who === 'child' ? this.childHost : this.grandchildHost;
    if (!pid) throw new Error(`harness: no pid known for the ${who} (is there a ready step?)`);
    return pid;
  }

  signalInit(signal: number): void {
    process.kill(this.pidOf('init'), signal);
  }

  async step(step: Step): Promise<void> {
    const applies = (when?: readonly Placement[]) => !when || when.includes(this.placement);
    switch (step.do) {
      case 'ready':
        await this.waitReady();
        return;
      case 'snapshot':
        this.snapshot = { child: this.log('child'), grandchild: this.log('grandchild') };
        return;
      case 'send':
        for (const s of step.signals) this.signalInit(s);
        return;
      case 'forward':
        for (const s of step.signals) {
          this.signalInit(s);
          for (const who of step.at) await this.awaitSignal(who, s);
        }
        return;
      case 'await':
        await this.awaitSignal(step.who, step.signal);
        return;
      case 'marker':
        process.kill(this.pidOf(step.who), step.signal);
        await this.awaitSignal(step.who, step.signal);
        return;
      case 'stdin':
        this.run.proc.stdin!.write(step.text);
        return;
      case 'state':
        if (!applies(step.when)) return;
        await poll(
          () => (isStopped(this.pidOf(step.who)) === step.stopped ? true : undefined),
          10_000,
          `the ${step.who} to be ${step.stopped ? 'stopped' : 'running'}`,
        );
        return;
      case 'still':
        if (!applies(step.when)) return;
        for (let i = 0; i < 10; i++) {
          expect(isStopped(this.pidOf(step.who)), `the ${step.who} ${step.stopped ? 'stopped' : 'running'}`).toBe(step.stopped);
          await sleep(30);
        }
        return;
    }
  }

  async awaitSignal(who: Who, signal: number): Promise<void> {
    await poll(() => (this.log(who).includes(signal) ? true : undefined), 10_000, `signal ${signal} at the ${who}`);
  }

  cleanup(): void {
    for (const pid of [this.grandchildHost, this.childHost]) {
      if (pid && this.placement !== 'pid1') tryKill(pid);
    }
    this.run.kill('SIGKILL');
    if (this.initHost) tryKill(this.initHost);
  }
}

function isStopped(pid: number): boolean {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'T' || state === 't';
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function tryKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withTimeout<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what()}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const runs: CaseRun[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const r of runs.splice(0)) r.cleanup();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function runCase(subject: Subject, c: Case, placement: Placement): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pidone-compat-'));
  dirs.push(dir);
  for (const [name, [content, mode]] of Object.entries(c.files ?? {})) {
    writeFileSync(join(dir, name), content);
    chmodSync(join(dir, name), mode);
  }
  const ctx = { dir, agent: fixture('compat-agent'), placement };
  const env: NodeJS.ProcessEnv = { ...baseEnv(), ...c.env };
  if (placement === 'subreaper' && c.tool === 'tini') env['TINI_SUBREAPER'] = '';
  const r = new CaseRun(c, placement, dir, subject.command(c.args(ctx)), env);
  runs.push(r);
  const describeRun = () => `${subject.label} as ${placement}, ${c.id}; stdout: ${JSON.stringify(r.run.stdout)}; stderr: ${JSON.stringify(r.run.stderr)}`;

  for (const step of c.steps ?? []) {
    try {
      await withTimeout(r.step(step), 15_000, () => `step ${JSON.stringify(step)}`);
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)} (${describeRun()})`);
    }
  }
  const e = c.expect;
  const exit = await withTimeout(r.run.exited, 20_000, () => `the init to exit (${describeRun()})`);
  if (e.exit !== undefined) expect(exit.code, describeRun()).toBe(e.exit);
  const { stdout, stderr } = r.run;
  for (const re of e.stdout ?? []) expect(stdout, describeRun()).toMatch(re);
  for (const re of e.stderr ?? []) expect(stderr, describeRun()).toMatch(re);
  for (const re of e.notStderr ?? []) expect(stderr, describeRun()).not.toMatch(re);
  if (e.stderrEmpty) expect(stderr, describeRun()).toBe('');
  if (e.nothingRun) expect(existsSync(join(dir, 'marker')), 'the program ran').toBe(false);
  // Without a snapshot, the end: give a signal sent as the init exited time to be logged.
  if (!r.snapshot) await sleep(100);
  const logs = r.snapshot ?? { child: r.log('child'), grandchild: r.log('grandchild') };
  if (e.childLog) expect(logs.child, 'child.log').toEqual(e.childLog);
  if (e.grandchildLog) expect(logs.grandchild, 'grandchild.log').toEqual(e.grandchildLog);
  for (const s of e.grandchildGot ?? []) expect(r.log('grandchild'), 'grandchild.log').toContain(s);
  for (const s of e.grandchildNotGot ?? []) expect(r.log('grandchild'), 'grandchild.log').not.toContain(s);
  if (e.childOwnSession !== undefined) expect(r.ready!.sid === r.ready!.pid, 'child leads its session').toBe(e.childOwnSession);
  if (e.childOwnGroup !== undefined) expect(r.ready!.pgid === r.ready!.pid, 'child leads its group').toBe(e.childOwnGroup);
  if (e.grandchildSurvives !== undefined && placement !== 'pid1') {
    expect(alive(r.grandchildHost), 'the grandchild outlives the init').toBe(e.grandchildSurvives);
  }
}

function peerAvailable(tool: Tool): boolean {
  if (existsSync(PEERS[tool])) return true;
  if (inCiAsRoot) throw new Error(`${PEERS[tool]} is missing; CI installs it (apt-get install ${tool})`);
  console.warn(`skipping the ${tool} peer runs: ${PEERS[tool]} is not installed (apt-get install ${tool})`);
  return false;
}

for (const tool of ['tini', 'dumb-init'] as const) {
  for (const subject of subjects(tool)) {
    const cases = CASES.filter((c) => c.tool === tool && runsOn(c, subject.kind) && (!subject.viaLink || c.viaLink));
    const skip = subject.kind === 'peer' && !peerAvailable(tool);
    for (const placement of ['pid1', 'subreaper', 'plain'] as const) {
      const here = cases.filter((c) => placementsOf(c).includes(placement));
      if (here.length === 0) continue;
      describeWithNamespaces(`compat harness: ${subject.label} as ${placement}`, () => {
        for (const c of here) {
          const title = `${c.id} [${c.owner}]: ${c.title}`;
          if (skip) it.skip(title, () => {});
          else it(title, () => runCase(subject, c, placement));
        }
      });
    }
  }
}

/**
 * One transcript run: the workload, by `command`, with the verbosity's flags before
 * the transcript's arguments. Returns what it printed once it has exited.
 */
async function runTranscript(
  command: (args: string[]) => string[],
  t: Transcript,
  placement: Placement,
  verbosity: Verbosity,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'pidone-compat-'));
  dirs.push(dir);
  const ctx = { dir, agent: fixture('compat-agent'), placement };
  const env: NodeJS.ProcessEnv = { ...baseEnv(), ...t.env, ...verbosity.env };
  if (placement === 'subreaper' && t.tool === 'tini') env['TINI_SUBREAPER'] = '';
  const c: Case = { id: t.id, tool: t.tool, title: t.title, owner: 'theirs', args: t.args, expect: {} };
  const r = new CaseRun(c, placement, dir, command([...verbosity.flags, ...t.args(ctx)]), env);
  runs.push(r);
  const describeRun = () => `${command([]).join(' ')} as ${placement}, ${t.id}; stdout: ${JSON.stringify(r.run.stdout)}; stderr: ${JSON.stringify(r.run.stderr)}`;
  for (const step of t.steps ?? []) {
    try {
      await withTimeout(r.step(step), 15_000, () => `step ${JSON.stringify(step)}`);
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)} (${describeRun()})`);
    }
  }
  const exit = await withTimeout(r.run.exited, 20_000, () => `the init to exit (${describeRun()})`);
  return { code: exit.code, stdout: r.run.stdout, stderr: r.run.stderr };
}

for (const tool of ['tini', 'dumb-init'] as const) {
  const peer = subjects(tool).find((s) => s.kind === 'peer')!;
  const pidone = subjects(tool).find((s) => s.kind === 'pidone' && !s.viaLink)!;
  for (const placement of ['pid1', 'subreaper', 'plain'] as const) {
    const here = TRANSCRIPTS.filter((t) => t.tool === tool && t.placements.includes(placement));
    if (here.length === 0) continue;
    describeWithNamespaces(`compat harness: ${tool}'s log lines, ${PEERS[tool]} and pidone --compat ${tool}, as ${placement}`, () => {
      for (const t of here) {
        for (const verbosity of VERBOSITIES[tool]) {
          it(`${t.id} at ${verbosity.label}: ${t.title}`, async () => {
            if (!peerAvailable(tool)) return;
            const theirs = await runTranscript(peer.command, t, placement, verbosity);
            const ours = await runTranscript(pidone.command, t, placement, verbosity);
            const what = `${PEERS[tool]}: ${JSON.stringify(theirs)}\npidone: ${JSON.stringify(ours)}`;
            expect(theirs.code, what).toBe(t.exit);
            expect(ours.code, what).toBe(t.exit);
            const expected = normaliseTranscript(tool, 'peer', theirs.stdout, theirs.stderr);
            const actual = normaliseTranscript(tool, 'pidone', ours.stdout, ours.stderr);
            expect(actual.loud, what).toEqual(expected.loud);
            expect(actual.quiet, what).toEqual(expected.quiet);
          });
        }
      }
    });
  }
}

describe("compat harness: dumb-init's log lines with a terminal, /usr/bin/dumb-init and a link named dumb-init", () => {
  const verbosities = VERBOSITIES['dumb-init'];
  for (const t of TERMINAL_TRANSCRIPTS) {
    it.each(verbosities.map((v) => [v.label, v] as const))(`${t.id} at %s: ${t.title}`, (_, verbosity) => {
      if (!peerAvailable('dumb-init')) return;
      const run = (init: string) => {
        const shell = t.shell.replace('INIT', [init, ...verbosity.flags].join(' '));
        const r = spawnSync('script', ['-qec', shell, '/dev/null'], { encoding: 'utf8', input: '', env: { ...baseEnv(), ...verbosity.env } });
        // The terminal turns each "\n" into "\r\n".
        return { status: r.status, output: r.stdout.replace(/\r\n/g, '\n'), stderr: r.stderr };
      };
      const theirs = run(PEERS['dumb-init']);
      const ours = run(join(linkDir, 'dumb-init'));
      const what = `dumb-init: ${JSON.stringify(theirs)}\npidone: ${JSON.stringify(ours)}`;
      expect(theirs.status, what).toBe(t.exit);
      expect(ours.status, what).toBe(t.exit);
      expect(normaliseTranscript('dumb-init', 'pidone', '', ours.output).loud, what).toEqual(
        normaliseTranscript('dumb-init', 'peer', '', theirs.output).loud,
      );
    });
  }
});

/**
 * Help, version and usage errors, byte for byte: the same arguments to Debian's tool
 * and to a link to pidone named after it, both called by their full path (the tools
 * print argv[0]); the link's directory is put in place of /usr/bin, and tini's pid in
 * its FATAL lines is normalised.
 */
const CLI_TEXTS: Readonly<Record<Tool, readonly (readonly string[])[]>> = {
  tini: [['--version'], ['-h'], ['-s', '-h'], [], ['--'], ['-s'], ['-x'], ['--bogus'], ['-e'], ['-p', 'TERM', 'true'], ['-e', '256', 'true'], ['--version', 'true']],
  'dumb-init': [['--version'], ['-V'], ['-h'], ['--help'], ['--he'], [], ['-c'], ['-x', 'true'], ['--bogus'], ['--ver'], ['--help=x'], ['-r'], ['-r', '99:1', 'true'], ['-r', 'TERM:1']],
};

describe('compat harness: help, version and usage errors, byte for byte', () => {
  for (const tool of ['tini', 'dumb-init'] as const) {
    it.each(CLI_TEXTS[tool].map((args) => [args.join(' ') || '(no arguments)', args] as const))(`${tool} %s`, (_, args) => {
      if (!peerAvailable(tool)) return;
      const run = (path: string) => {
        const r = spawnSync(path, [...args], { encoding: 'utf8', env: baseEnv() });
        const normal = (text: string) => text.split(join(linkDir, tool)).join(PEERS[tool]).replace(/^\[FATAL tini \(\d+\)\]/gm, '[FATAL tini (PID)]');
        return { status: r.status, stdout: normal(r.stdout), stderr: normal(r.stderr) };
      };
      const theirs = run(PEERS[tool]);
      expect(theirs.stdout + theirs.stderr).not.toBe('');
      expect(run(join(linkDir, tool))).toEqual(theirs);
    });
  }
});

describe('compat harness: docker info reads tini mode’s --version', () => {
  const versionOf = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: { ...baseEnv(), ...env } });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  };

  beforeAll(() => {
    expect(existsSync(PIDONE)).toBe(true);
  });

  it.each([
    ['pidone --compat tini', [PIDONE, '--compat', 'tini', '--version'], {}],
    ['a link named docker-init', [join(linkDir, 'docker-init'), '--version'], {}],
    ['a link named tini', [join(linkDir, 'tini'), '--version'], {}],
    ['PIDONE_COMPAT=tini', [PIDONE, '--version'], { PIDONE_COMPAT: 'tini' }],
  ] as const)('%s: tini version 0.19.0, no commit, one line', (_, argv, env) => {
    const out = versionOf([...argv], env);
    expect(out).toBe('tini version 0.19.0\n');
    expect(parseDockerInitVersion(out)).toEqual({ version: '0.19.0', commit: '' });
    expect(parseDockerInitVersionOld(out)).toBe('v0.19.0');
  });

  it("parses Debian's tini the same way", () => {
    if (!peerAvailable('tini')) return;
    const out = versionOf([PEERS.tini, '--version']);
    expect(parseDockerInitVersion(out).version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(parseDockerInitVersionOld(out)).toMatch(/^v\d+\.\d+\.\d+$|^[0-9a-f]{7}$/);
  });
});

describe('compat harness: choosing the mode', () => {
  const run = (argv: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: { ...baseEnv(), ...env } });

  it('a link named dumb-init speaks dumb-init: -V on stderr', () => {
    const r = run([join(linkDir, 'dumb-init'), '-V']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^dumb-init v\d+\.\d+\.\d+/);
  });

  it('PIDONE_COMPAT=dumb-init: bad -r exits 1 as dumb-init does', () => {
    const r = run([PIDONE, '-r', '99:1', 'true'], { PIDONE_COMPAT: 'dumb-init' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/-r option takes <signum>:<signum>/);
  });

  it('a bad PIDONE_COMPAT: exit 2, naming it and the accepted values', () => {
    const r = run([PIDONE, 'true'], { PIDONE_COMPAT: 'tiny' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/PIDONE_COMPAT: 'tiny' is not one of tini, dumb-init, none/);
  });

  it('PIDONE_LOG_FORMAT=json: pidone’s own JSON lines in a compat mode, not the tool’s', () => {
    const r = run([join(linkDir, 'tini'), '-s', '-w', '--', 'sh', '-c', '(sleep 0.1 &); sleep 0.5; exit 4'], { PIDONE_LOG_FORMAT: 'json' });
    expect(r.status, r.stderr).toBe(4);
    const events = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; level: string });
    expect(events).toContainEqual(expect.objectContaining({ msg: 'reaped orphan', level: 'warn' }));
    expect(r.stderr).not.toMatch(/tini \(/);
    const plain = run([join(linkDir, 'tini'), '-s', '-w', '--', 'sh', '-c', '(sleep 0.1 &); sleep 0.5; exit 4']);
    expect(plain.stderr).toMatch(/^\[WARN  tini \(\d+\)\] Reaped zombie process with pid=\d+\n$/);
  });

  it('a bad PIDONE_LOG_FORMAT in a compat mode: exit 2, naming it, nothing run', () => {
    const r = run([join(linkDir, 'dumb-init'), 'true'], { PIDONE_LOG_FORMAT: 'tini' });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("pidone: PIDONE_LOG_FORMAT: 'tini' is not one of json, pretty\n");
  });

  it.each(['tini', 'dumb-init'] as const)(
    'telling pidone from %s: `--compat none --version` prints pidone’s version; the real tool rejects it',
    (tool) => {
      const ours = run([join(linkDir, tool), '--compat', 'none', '--version']);
      expect(ours.status).toBe(0);
      expect(ours.stdout).toMatch(/^pidone \d+\.\d+\.\d+\S*\n$/);
      if (!peerAvailable(tool)) return;
      const theirs = run([PEERS[tool], '--compat', 'none', '--version']);
      expect(theirs.status).toBe(1);
      expect(theirs.stdout).not.toMatch(/pidone/);
    },
  );

  it('--compat none through a link named tini: pidone’s own command line', () => {
    const r = run([join(linkDir, 'tini'), '--compat', 'none', '--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^pidone \d+\.\d+\.\d+/);
  });
});
