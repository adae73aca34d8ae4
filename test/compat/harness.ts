/**
 * The compat harness: behaviours of tini and dumb-init, written down as cases, each
 * run against the real tool and against pidone standing in for it. A case is a
 * command line, an environment, a workload, what the test does to the init while it
 * runs, and what is then observed: the exit code, stdout and stderr, which signals the
 * child and its grandchild received, their session and group, and whether processes
 * are stopped.
 *
 * Who must pass a case (`owner`):
 * - 'theirs': the tool's own behaviour. The real tool passes it, which shows the case
 *   checks something real; pidone must pass it too.
 * - 'pidone-only': where pidone does better than the tool on purpose (docs/compat.md);
 *   the tool is not run.
 * - 'peer-only': the tool's behaviour where pidone deliberately differs; run against
 *   the tool alone, so that the difference documented in docs/compat.md is shown to
 *   be real. pidone has a 'pidone-only' counterpart.
 *
 * Placements (`placements`, default all that apply to the tool):
 * - 'pid1': PID 1 of a new PID namespace (unshare --pid --fork --mount-proc);
 * - 'subreaper': an ordinary process asked to reap orphans: tini gets TINI_SUBREAPER
 *   (pidone in tini mode then becomes one, as tini does); dumb-init has no such
 *   option, so there only pidone (which becomes one by default) reaps orphans;
 * - 'plain': tini not PID 1 and not asked to be a subreaper (its warning).
 */
import { fixture } from '../helpers/paths.js';

export type Tool = 'tini' | 'dumb-init';
export type Placement = 'pid1' | 'subreaper' | 'plain';
export type Owner = 'theirs' | 'pidone-only' | 'peer-only';
export type Who = 'child' | 'grandchild';

export interface CaseContext {
  /** A fresh temporary directory: signal logs, markers, scripts. */
  readonly dir: string;
  /** The compat-agent fixture. */
  readonly agent: string;
  readonly placement: Placement;
}

export type Step =
  /** Wait for the agent's ready line. */
  | { readonly do: 'ready' }
  /** Send each signal to the init and wait until it is logged by each of `at`. */
  | { readonly do: 'forward'; readonly signals: readonly number[]; readonly at: readonly Who[] }
  /** Send signals to the init without waiting for anything. */
  | { readonly do: 'send'; readonly signals: readonly number[] }
  /** Send `signal` straight to `who` (bypassing the init) and wait until it is logged. */
  | { readonly do: 'marker'; readonly who: Who; readonly signal: number }
  /** Write a command to the agent's stdin. */
  | { readonly do: 'stdin'; readonly text: string }
  /** Take the signal logs now: childLog and grandchildLog are checked against this. */
  | { readonly do: 'snapshot' }
  /** Wait until `who` has logged `signal`. */
  | { readonly do: 'await'; readonly who: Who; readonly signal: number }
  /** Wait until `who` is stopped (state T) or running; only in the placements listed, if any. */
  | { readonly do: 'state'; readonly who: 'init' | 'child'; readonly stopped: boolean; readonly when?: readonly Placement[] }
  /** Check that `who` is in that state and stays so for a moment. */
  | { readonly do: 'still'; readonly who: 'init' | 'child'; readonly stopped: boolean; readonly when?: readonly Placement[] };

export interface Expectation {
  readonly exit?: number;
  readonly stdout?: readonly RegExp[];
  readonly stderr?: readonly RegExp[];
  readonly notStderr?: readonly RegExp[];
  readonly stderrEmpty?: boolean;
  /** The exact signal logs (numbers in order of delivery) at the snapshot step, or at the end. */
  readonly childLog?: readonly number[];
  readonly grandchildLog?: readonly number[];
  /** Signals the grandchild's log must contain by the end / must not. */
  readonly grandchildGot?: readonly number[];
  readonly grandchildNotGot?: readonly number[];
  /** From the agent's ready line. */
  readonly childOwnSession?: boolean;
  readonly childOwnGroup?: boolean;
  /** The grandchild is still alive once the init has exited (not for pid1). */
  readonly grandchildSurvives?: boolean;
  /** DIR/marker must not exist: nothing was run. */
  readonly nothingRun?: boolean;
}

export interface Case {
  readonly id: string;
  readonly tool: Tool;
  readonly title: string;
  readonly owner: Owner;
  readonly placements?: readonly Placement[];
  /**
   * Also run through a link named after the tool (the whole table runs with
   * `--compat X`; through the link, the cases marked here, which are enough to show
   * that the name selects the same mode).
   */
  readonly viaLink?: boolean;
  /** The init's arguments (flags and command), without the init itself. */
  readonly args: (ctx: CaseContext) => string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Files to create in DIR before the run: name -> [content, mode]. */
  readonly files?: Readonly<Record<string, readonly [string, number]>>;
  readonly steps?: readonly Step[];
  readonly expect: Expectation;
}

/** Signals both tools forward, with Linux's numbers (RTMIN+1 is 35 with glibc). */
export const FORWARDED = [1, 2, 3, 10, 12, 14, 15, 18, 28, 35] as const;

const SIGUSR1 = 10;
const SIGUSR2 = 12;
const SIGTERM = 15;
const SIGCHLD = 17;
const SIGCONT = 18;
const SIGTSTP = 20;
const SIGTTIN = 21;
const SIGTTOU = 22;
const SIGPWR = 30;
const SIGABRT = 6;
const SIGRTMIN_1 = 35;

const agent = (ctx: CaseContext, grandchild = true): string[] =>
  grandchild ? [ctx.agent, ctx.dir, '--grandchild'] : [ctx.agent, ctx.dir];
const marker = (ctx: CaseContext): string[] => ['touch', `${ctx.dir}/marker`];
/** tini: "Tini is not running as PID 1 and isn't registered as a child subreaper." The gist, not the words. */
const TINI_NOT_PID1_WARNING = /not running as PID 1 and (isn't|not) registered as a child subreaper/i;

export const CASES: readonly Case[] = [
  // ---------------------------------------------------------------- tini: command line
  {
    id: 'tini/usage-no-program',
    viaLink: true,
    tool: 'tini',
    title: 'no program: usage on stderr, exit 1',
    owner: 'theirs',
    placements: ['pid1'],
    args: () => [],
    expect: { exit: 1, stderr: [/^Usage: \S*tini \[OPTIONS\] PROGRAM -- \[ARGS\] \| --version$/m] },
  },
  {
    id: 'tini/help',
    tool: 'tini',
    title: '-h: usage on stdout, exit 0, nothing run',
    owner: 'theirs',
    placements: ['pid1'],
    args: (ctx) => ['-h', '--', ...marker(ctx)],
    expect: { exit: 0, stdout: [/^Usage: \S*tini \[OPTIONS\] PROGRAM/m], nothingRun: true },
  },
  {
    id: 'tini/version',
    viaLink: true,
    tool: 'tini',
    title: '--version: "tini version X.Y.Z" on stdout, exit 0 (docker info parses it)',
    owner: 'theirs',
    placements: ['pid1'],
    args: () => ['--version'],
    expect: { exit: 0, stdout: [/^tini version \d+\.\d+\.\d+( - \S.*)?\n$/] },
  },
  {
    id: 'tini/version-not-alone',
    tool: 'tini',
    title: '--version counts only alone: with a program it is an invalid option, exit 1',
    owner: 'theirs',
    placements: ['pid1'],
    args: (ctx) => ['--version', ...marker(ctx)],
    expect: { exit: 1, stderr: [/invalid option -- '-'/], nothingRun: true },
  },
  {
    id: 'tini/license',
    tool: 'tini',
    title: '-l: a licence on stdout, exit 0',
    owner: 'theirs',
    placements: ['pid1'],
    args: () => ['-l'],
    expect: { exit: 0, stdout: [/MIT License/] },
  },
  {
    id: 'tini/permutes',
    tool: 'tini',
    title: 'options after the program are still tini\'s without "--" (echo -l prints the licence)',
    owner: 'theirs',
    placements: ['pid1'],
    args: () => ['echo', '-l'],
    expect: { exit: 0, stdout: [/MIT License/] },
  },
  {
    id: 'tini/bad-option',
    viaLink: true,
    tool: 'tini',
    title: "unknown option: getopt's message and the usage on stderr, exit 1, nothing run",
    owner: 'theirs',
    placements: ['pid1'],
    args: (ctx) => ['-x', '--', ...marker(ctx)],
    expect: { exit: 1, stderr: [/invalid option -- 'x'/, /^Usage: /m], nothingRun: true },
  },
  {
    id: 'tini/bad-pdeathsig',
    tool: 'tini',
    title: '-p with a name tini does not know: FATAL line, exit 1, nothing run',
    owner: 'theirs',
    placements: ['pid1'],
    args: (ctx) => ['-p', 'TERM', '--', ...marker(ctx)],
    expect: { exit: 1, stderr: [/^\[FATAL tini \(\d+\)\] Not a valid option for -p: TERM$/m], nothingRun: true },
  },
  {
    id: 'tini/bad-remap',
    tool: 'tini',
    title: '-e out of 0-255: FATAL line, exit 1, nothing run',
    owner: 'theirs',
    placements: ['pid1'],
    args: (ctx) => ['-e', '256', '--', ...marker(ctx)],
    expect: { exit: 1, stderr: [/Not a valid option for -e: 256/], nothingRun: true },
  },

  // ---------------------------------------------------------------- tini: exit codes
  {
    id: 'tini/exit-code',
    viaLink: true,
    tool: 'tini',
    title: "exits with the child's code",
    owner: 'theirs',
    args: () => ['--', 'sh', '-c', 'exit 7'],
    expect: { exit: 7 },
  },
  {
    id: 'tini/exit-signal',
    tool: 'tini',
    title: 'a child killed by signal n: 128+n',
    owner: 'theirs',
    steps: [{ do: 'ready' }, { do: 'stdin', text: 'die 15\n' }],
    args: (ctx) => ['--', ...agent(ctx, false)],
    expect: { exit: 143 },
  },
  {
    id: 'tini/remap',
    tool: 'tini',
    title: '-e N (repeatable) turns exit code N into 0, and only N',
    owner: 'theirs',
    args: () => ['-e', '7', '-e', '143', '--', 'sh', '-c', 'exit 143'],
    expect: { exit: 0 },
  },
  {
    id: 'tini/remap-other',
    tool: 'tini',
    title: '-e N leaves other codes alone',
    owner: 'theirs',
    args: () => ['-e', '7', '--', 'sh', '-c', 'exit 9'],
    expect: { exit: 9 },
  },
  {
    id: 'tini/exec-enoent',
    viaLink: true,
    tool: 'tini',
    title: 'program not found: FATAL exec line, exit 127',
    owner: 'theirs',
    args: (ctx) => ['--', `${ctx.dir}/no-such-program`],
    expect: { exit: 127, stderr: [/^\[FATAL tini \(\d+\)\] exec \S+\/no-such-program failed: No such file or directory$/m] },
  },
  {
    id: 'tini/exec-eacces',
    tool: 'tini',
    title: 'program not executable: FATAL exec line, exit 126',
    owner: 'theirs',
    files: { 'not-executable': ['#!/bin/sh\nexit 0\n', 0o644] },
    args: (ctx) => ['--', `${ctx.dir}/not-executable`],
    expect: { exit: 126, stderr: [/exec \S+\/not-executable failed: Permission denied/] },
  },
  {
    id: 'tini/exec-no-shebang',
    tool: 'tini',
    title: 'an executable script without "#!" runs under /bin/sh (execvp)',
    owner: 'theirs',
    files: { 'script': ['echo from-sh\nexit 4\n', 0o755] },
    args: (ctx) => ['--', `${ctx.dir}/script`],
    expect: { exit: 4, stdout: [/^from-sh$/m] },
  },

  // ---------------------------------------------------------------- tini: signals
  {
    id: 'tini/forward-child-only',
    viaLink: true,
    tool: 'tini',
    title: 'by default signals go to the child alone, each once',
    owner: 'theirs',
    args: (ctx) => ['--', ...agent(ctx)],
    steps: [
      { do: 'ready' },
      { do: 'forward', signals: FORWARDED, at: ['child'] },
      { do: 'marker', who: 'grandchild', signal: SIGPWR },
      { do: 'snapshot' }, { do: 'stdin', text: 'exit 0\n' },
    ],
    expect: { exit: 0, childLog: FORWARDED, grandchildLog: [SIGPWR] },
  },
  {
    id: 'tini/forward-group',
    tool: 'tini',
    title: "-g: signals go to the child's process group, each once",
    owner: 'theirs',
    args: (ctx) => ['-g', '--', ...agent(ctx)],
    steps: [{ do: 'ready' }, { do: 'forward', signals: FORWARDED, at: ['child', 'grandchild'] }, { do: 'snapshot' }, { do: 'stdin', text: 'exit 0\n' }],
    expect: { exit: 0, childLog: FORWARDED, grandchildLog: FORWARDED },
  },
  {
    id: 'tini/forward-group-env',
    tool: 'tini',
    title: 'TINI_KILL_PROCESS_GROUP, even empty, is -g',
    owner: 'theirs',
    env: { TINI_KILL_PROCESS_GROUP: '' },
    args: (ctx) => ['--', ...agent(ctx)],
    steps: [{ do: 'ready' }, { do: 'forward', signals: [SIGUSR1], at: ['child', 'grandchild'] }, { do: 'snapshot' }, { do: 'stdin', text: 'exit 0\n' }],
    expect: { exit: 0, childLog: [SIGUSR1], grandchildLog: [SIGUSR1] },
  },
  {
    id: 'tini/not-forwarded',
    tool: 'tini',
    title: 'SIGCHLD, SIGTTIN and SIGTTOU sent to tini are not passed on (pidone passes TTIN and TTOU on: tini/forwards-tty-and-abrt)',
    owner: 'peer-only',
    args: (ctx) => ['-g', '--', ...agent(ctx)],
    steps: [
      { do: 'ready' },
      { do: 'send', signals: [SIGCHLD, SIGTTIN, SIGTTOU] },
      // Pending signals are taken lowest number first, real-time ones last: once this
      // one has arrived, the ones sent before it have been dealt with.
      { do: 'forward', signals: [SIGRTMIN_1], at: ['child', 'grandchild'] },
      { do: 'snapshot' }, { do: 'stdin', text: 'exit 0\n' },
    ],
    expect: { exit: 0, childLog: [SIGRTMIN_1], grandchildLog: [SIGRTMIN_1] },
  },
  {
    id: 'tini/sigabrt-pid1',
    tool: 'tini',
    title: 'as PID 1, SIGABRT sent to tini is not passed on (tini has no handler; the kernel drops it; pidone passes it on: tini/forwards-tty-and-abrt)',
    owner: 'peer-only',
    placements: ['pid1'],
    args: (ctx) => ['-g', '--', ...agent(ctx)],
    steps: [{ do: 'ready' }, { do: 'send', signals: [SIGABRT] }, { do: 'forward', signals: [SIGRTMIN_1], at: ['child'] }, { do: 'snapshot' }, { do: 'stdin', text: 'exit 0\n' }],
    expect: { exit: 0, childLog: [SIGRTMIN_1] },
  },
  {
    id: 'tini/forwards-tty-and-abrt',
    tool: 'tini',
    title: 'SIGTTIN, SIGTTOU and SIGABRT sent to pidone in tini mode reach the child and its group; SIGCHLD does not',
    owner: 'pidone-only',
    args: (ctx) => ['-g', '--', ...agent(ctx)],
    steps: [
      { do: 'ready' },
      { do: 'send', signals: [SIGCHLD] },
      { do: 'forward', signals: [SIGABRT, SIGTTIN, SIGTTOU, SIGRTMIN_1], at: ['child', 'grandchild'] },
      { do: 'snapshot' }, { do: 'stdin', text: 'exit 0\n' },
    ],
    expect: { exit: 0, childLog: [SIGABRT, SIGTTIN, SIGTTOU, SIGRTMIN_1], grandchildLog: [SIGABRT, SIGTTIN, SIGTTOU, SIGRTMIN_1] },
  },

  // ---------------------------------------------------------------- tini: reaping, what remains
  {
    id: 'tini/reaps-orphans',
    tool: 'tini',
    title: 'reaps orphans (as PID 1, and as a subreaper with TINI_SUBREAPER)',
    owner: 'theirs',
    placements: ['pid1', 'subreaper'],
    args: () => ['--', fixture('orphans'), '50', '3'],
    expect: { exit: 3, stdout: [/orphans 50 zombies 0/] },
  },
  {
    id: 'tini/leaves-the-rest',
    tool: 'tini',
    title: 'exits as soon as the child exits, leaving the rest of its group alone',
    owner: 'theirs',
    placements: ['subreaper'],
    args: (ctx) => ['-g', '--', ...agent(ctx)],
    steps: [{ do: 'ready' }, { do: 'stdin', text: 'exit 5\n' }],
    expect: { exit: 5, grandchildLog: [], grandchildSurvives: true },
  },
  {
    id: 'tini/warns-when-not-reaping',
    viaLink: true,
    tool: 'tini',
    title: "not PID 1 and no -s: tini's warning on stderr, and the program still runs",
    owner: 'theirs',
    placements: ['plain'],
    args: () => ['--', 'sh', '-c', 'exit 6'],
    expect: { exit: 6, stderr: [TINI_NOT_PID1_WARNING] },
  },
  {
    id: 'tini/subreaper-flag-no-warning',
    tool: 'tini',
    title: 'not PID 1 with -s: no warning',
    owner: 'theirs',
    placements: ['plain'],
    args: () => ['-s', '--', 'sh', '-c', 'exit 6'],
    expect: { exit: 6, stderrEmpty: true },
  },
  {
    id: 'tini/verbosity-zero',
    tool: 'tini',
    title: 'TINI_VERBOSITY=0 silences the warning, even with -vvv (the variable wins over -v)',
    owner: 'theirs',
    placements: ['plain'],
    env: { TINI_VERBOSITY: '0' },
    args: () => ['-vvv', '--', 'sh', '-c', 'exit 6'],
    expect: { exit: 6, stderrEmpty: true },
  },
  {
    id: 'tini/pid1-no-warning',
    tool: 'tini',
    title: 'as PID 1 without -s: no warning',
    owner: 'theirs',
    placements: ['pid1'],
    args: () => ['--', 'sh', '-c', 'exit 6'],
    expect: { exit: 6, stderrEmpty: true },
  },

  // ---------------------------------------------------------------- dumb-init: command line
  {
    id: 'dumb-init/usage-no-program',
    viaLink: true,
    tool: 'dumb-init',
    title: 'no program: two-line usage on stderr, exit 1',
    owner: 'theirs',
    placements: ['pid1'],
    args: () => [],
    expect: { exit: 1, stderr: [/^Usage: \S*dumb-init \[option\] program \[args\]$/m, /--help for full usage/] },
  },
  {
    id: 'dumb-init/help',
    tool: 'dumb-init',
    title: '-h/--help: usage on stderr, exit 0, nothing run',
    owner: 'theirs',
    placements: ['pid1'],
    args: (ctx) => ['--help', ...marker(ctx)],
    expect: { exit: 0, stderr: [/^Usage: \S*dumb-init \[option\] command/m, /--single-child/, /--rewrite/], nothingRun: true },
  },
  {
    id: 'dumb-init/version',
    viaLink: true,
    tool: 'dumb-init',
    title: '-V: "dumb-init vX.Y.Z" on stderr, exit 0',
    owner: 'theirs',
    placements: ['pid1'],
    args: (ctx) => ['-V', ...marker(ctx)],
    expect: { exit: 0, stderr: [/^dumb-init v\d+\.\d+\.\d+/], nothingRun: true },
  },
  {
    id: 'dumb-init/bad-option',
    tool: 'dumb-init',
    title: "unknown option: getopt's message, exit 1, nothing run",
    owner: 'theirs',
    placements: ['pid1'],
    args: (ctx) => ['--bogus', ...marker(ctx)],
    expect: { exit: 1, stderr: [/unrecognized option '--bogus'/], nothingRun: true },
  },
  {
    id: 'dumb-init/bad-rewrite',
    viaLink: true,
    tool: 'dumb-init',
    title: '-r outside 1-31: the -r help, exit 1, nothing run',
    owner: 'theirs',
    placements: ['pid1'],
    args: (ctx) => ['-r', '15:32', ...marker(ctx)],
    expect: { exit: 1, stderr: [/^Usage: -r option takes <signum>:<signum>, where <signum> is between 1 and 31\.$/m], nothingRun: true },
  },
  {
    id: 'dumb-init/no-permutation',
    tool: 'dumb-init',
    title: "options stop at the program: the program's -c is its own",
    owner: 'theirs',
    placements: ['pid1'],
    args: () => ['sh', '-c', 'exit 4'],
    expect: { exit: 4 },
  },

  // ---------------------------------------------------------------- dumb-init: exit codes
  {
    id: 'dumb-init/exit-code',
    viaLink: true,
    tool: 'dumb-init',
    title: "exits with the child's code",
    owner: 'theirs',
    args: () => ['sh', '-c', 'exit 7'],
    expect: { exit: 7 },
  },
  {
    id: 'dumb-init/exit-signal',
    tool: 'dumb-init',
    title: 'a child killed by signal n: 128+n',
    owner: 'theirs',
    args: (ctx) => agent(ctx, false),
    steps: [{ do: 'ready' }, { do: 'stdin', text: 'die 10\n' }],
    expect: { exit: 138 },
  },
  {
    id: 'dumb-init/exec-enoent',
    viaLink: true,
    tool: 'dumb-init',
    title: 'program not found: "[dumb-init] X: No such file or directory", exit 2',
    owner: 'theirs',
    args: (ctx) => [`${ctx.dir}/no-such-program`],
    expect: { exit: 2, stderr: [/^\[dumb-init\] \S+\/no-such-program: No such file or directory$/m] },
  },
  {
    id: 'dumb-init/exec-eacces',
    tool: 'dumb-init',
    title: 'program not executable: "[dumb-init] X: Permission denied", exit 2',
    owner: 'theirs',
    files: { 'not-executable': ['#!/bin/sh\nexit 0\n', 0o644] },
    args: (ctx) => [`${ctx.dir}/not-executable`],
    expect: { exit: 2, stderr: [/^\[dumb-init\] \S+\/not-executable: Permission denied$/m] },
  },
  {
    id: 'dumb-init/exec-no-shebang',
    tool: 'dumb-init',
    title: 'an executable script without "#!" runs under /bin/sh (execvp)',
    owner: 'theirs',
    files: { 'script': ['echo from-sh\nexit 4\n', 0o755] },
    args: (ctx) => [`${ctx.dir}/script`],
    expect: { exit: 4, stdout: [/^from-sh$/m] },
  },

  // ---------------------------------------------------------------- dumb-init: sessions and signals
  {
    id: 'dumb-init/setsid',
    viaLink: true,
    tool: 'dumb-init',
    title: 'the child leads a new session (and its group) by default',
    owner: 'theirs',
    args: (ctx) => agent(ctx, false),
    steps: [{ do: 'ready' }, { do: 'stdin', text: 'exit 0\n' }],
    expect: { exit: 0, childOwnSession: true, childOwnGroup: true },
  },
  {
    id: 'dumb-init/no-setsid',
    tool: 'dumb-init',
    title: '-c and DUMB_INIT_SETSID=0: no new session for the child',
    owner: 'theirs',
    env: { DUMB_INIT_SETSID: '0' },
    args: (ctx) => agent(ctx, false),
    steps: [{ do: 'ready' }, { do: 'stdin', text: 'exit 0\n' }],
    expect: { exit: 0, childOwnSession: false },
  },
  {
    id: 'dumb-init/single-child-group-peer',
    tool: 'dumb-init',
    title: "-c: dumb-init leaves the child in its own process group (pidone's child leads one)",
    owner: 'peer-only',
    args: (ctx) => ['-c', ...agent(ctx, false)],
    steps: [{ do: 'ready' }, { do: 'stdin', text: 'exit 0\n' }],
    expect: { exit: 0, childOwnSession: false, childOwnGroup: false },
  },
  {
    id: 'dumb-init/single-child-group-pidone',
    tool: 'dumb-init',
    title: '-c: the child leads a process group of its own, in the same session',
    owner: 'pidone-only',
    args: (ctx) => ['-c', ...agent(ctx, false)],
    steps: [{ do: 'ready' }, { do: 'stdin', text: 'exit 0\n' }],
    expect: { exit: 0, childOwnSession: false, childOwnGroup: true },
  },
  {
    id: 'dumb-init/forward-group',
    viaLink: true,
    tool: 'dumb-init',
    title: "signals go to the child's process group, each once; SIGCHLD is not passed on",
    owner: 'theirs',
    args: (ctx) => agent(ctx),
    steps: [
      { do: 'ready' },
      { do: 'send', signals: [SIGCHLD] },
      { do: 'forward', signals: FORWARDED, at: ['child', 'grandchild'] },
      { do: 'snapshot' }, { do: 'stdin', text: 'exit 0\n' },
    ],
    expect: { exit: 0, childLog: FORWARDED, grandchildLog: FORWARDED },
  },
  {
    id: 'dumb-init/forward-single-child',
    tool: 'dumb-init',
    title: '-c: signals go to the child alone',
    owner: 'theirs',
    args: (ctx) => ['-c', ...agent(ctx)],
    steps: [
      { do: 'ready' },
      { do: 'forward', signals: FORWARDED, at: ['child'] },
      { do: 'marker', who: 'grandchild', signal: SIGPWR },
      { do: 'snapshot' }, { do: 'stdin', text: 'exit 0\n' },
    ],
    expect: { exit: 0, childLog: FORWARDED, grandchildLog: [SIGPWR] },
  },
  {
    id: 'dumb-init/rewrite',
    tool: 'dumb-init',
    title: '-r 10:12 passes SIGUSR1 on as SIGUSR2; -r 28:0 drops SIGWINCH',
    owner: 'theirs',
    args: (ctx) => ['-r', '10:12', '--rewrite', '28:0', ...agent(ctx)],
    steps: [
      { do: 'ready' },
      { do: 'send', signals: [28, SIGUSR1] },
      { do: 'await', who: 'child', signal: SIGUSR2 },
      { do: 'forward', signals: [SIGRTMIN_1], at: ['child'] },
      { do: 'snapshot' }, { do: 'stdin', text: 'exit 0\n' },
    ],
    expect: { exit: 0, childLog: [SIGUSR2, SIGRTMIN_1] },
  },
  {
    id: 'dumb-init/term-group-on-exit',
    tool: 'dumb-init',
    title: 'when the child exits, one SIGTERM goes to its group, and dumb-init exits at once',
    owner: 'theirs',
    placements: ['subreaper'],
    args: (ctx) => agent(ctx),
    steps: [{ do: 'ready' }, { do: 'stdin', text: 'exit 3\n' }],
    expect: { exit: 3, grandchildLog: [SIGTERM], grandchildSurvives: true },
  },
  {
    id: 'dumb-init/term-group-on-exit-rewritten',
    tool: 'dumb-init',
    title: 'that last SIGTERM is rewritten like any other: -r 15:10 sends SIGUSR1',
    owner: 'theirs',
    placements: ['subreaper'],
    args: (ctx) => ['-r', '15:10', ...agent(ctx)],
    steps: [{ do: 'ready' }, { do: 'stdin', text: 'exit 3\n' }],
    expect: { exit: 3, grandchildLog: [SIGUSR1], grandchildSurvives: true },
  },
  {
    id: 'dumb-init/no-term-single-child',
    tool: 'dumb-init',
    title: '-c: no SIGTERM for the rest when the child exits',
    owner: 'theirs',
    placements: ['subreaper'],
    args: (ctx) => ['-c', ...agent(ctx)],
    steps: [{ do: 'ready' }, { do: 'stdin', text: 'exit 3\n' }],
    expect: { exit: 3, grandchildLog: [], grandchildSurvives: true },
  },
  {
    id: 'dumb-init/tstp-setsid',
    viaLink: true,
    tool: 'dumb-init',
    title: 'SIGTSTP: the group gets SIGSTOP, dumb-init stops itself (not as PID 1: the kernel spares it); SIGCONT resumes both',
    owner: 'theirs',
    args: (ctx) => agent(ctx),
    steps: [
      { do: 'ready' },
      { do: 'send', signals: [SIGTSTP] },
      { do: 'state', who: 'child', stopped: true },
      { do: 'state', who: 'init', stopped: true, when: ['subreaper'] },
      { do: 'still', who: 'init', stopped: false, when: ['pid1'] },
      { do: 'send', signals: [SIGCONT] },
      { do: 'state', who: 'child', stopped: false },
      { do: 'state', who: 'init', stopped: false },
      { do: 'await', who: 'child', signal: SIGCONT },
      { do: 'snapshot' }, { do: 'stdin', text: 'exit 0\n' },
    ],
    expect: { exit: 0, childLog: [SIGCONT], grandchildGot: [SIGCONT] },
  },
  {
    id: 'dumb-init/tstp-single-child',
    tool: 'dumb-init',
    title: '-c: SIGTSTP is passed on as it is, then dumb-init stops itself; SIGCONT resumes it and is passed on',
    owner: 'theirs',
    args: (ctx) => ['-c', ...agent(ctx)],
    steps: [
      { do: 'ready' },
      { do: 'forward', signals: [SIGTSTP], at: ['child'] },
      { do: 'state', who: 'init', stopped: true, when: ['subreaper'] },
      { do: 'still', who: 'init', stopped: false, when: ['pid1'] },
      { do: 'still', who: 'child', stopped: false },
      { do: 'send', signals: [SIGCONT] },
      { do: 'state', who: 'init', stopped: false },
      { do: 'await', who: 'child', signal: SIGCONT },
      { do: 'snapshot' }, { do: 'stdin', text: 'exit 0\n' },
    ],
    expect: { exit: 0, childLog: [SIGTSTP, SIGCONT] },
  },
  {
    id: 'dumb-init/ttin-dropped-still-stops',
    tool: 'dumb-init',
    title: '-r 21:0: SIGTTIN is dropped, but dumb-init still stops itself',
    owner: 'theirs',
    args: (ctx) => ['-r', '21:0', ...agent(ctx)],
    steps: [
      { do: 'ready' },
      { do: 'send', signals: [SIGTTIN] },
      { do: 'state', who: 'init', stopped: true, when: ['subreaper'] },
      { do: 'still', who: 'init', stopped: false, when: ['pid1'] },
      { do: 'still', who: 'child', stopped: false },
      { do: 'send', signals: [SIGCONT] },
      { do: 'state', who: 'init', stopped: false },
      { do: 'await', who: 'child', signal: SIGCONT },
      { do: 'snapshot' }, { do: 'stdin', text: 'exit 0\n' },
    ],
    expect: { exit: 0, childLog: [SIGCONT] },
  },

  // ---------------------------------------------------------------- dumb-init: reaping, logs
  {
    id: 'dumb-init/reaps-orphans-pid1',
    tool: 'dumb-init',
    title: 'reaps orphans as PID 1',
    owner: 'theirs',
    placements: ['pid1'],
    args: () => [fixture('orphans'), '50', '3'],
    expect: { exit: 3, stdout: [/orphans 50 zombies 0/] },
  },
  {
    id: 'dumb-init/reaps-orphans-nested',
    tool: 'dumb-init',
    title: 'reaps orphans when not PID 1 too (dumb-init is no subreaper; pidone is by default)',
    owner: 'pidone-only',
    placements: ['subreaper'],
    args: () => [fixture('orphans'), '50', '3'],
    expect: { exit: 3, stdout: [/orphans 50 zombies 0/] },
  },
  {
    id: 'dumb-init/quiet',
    tool: 'dumb-init',
    title: 'nothing on stderr by default',
    owner: 'theirs',
    args: () => ['sh', '-c', 'exit 0'],
    expect: { exit: 0, stderrEmpty: true },
  },
  {
    id: 'dumb-init/debug',
    tool: 'dumb-init',
    title: 'DUMB_INIT_DEBUG=1: debugging output on stderr',
    owner: 'theirs',
    env: { DUMB_INIT_DEBUG: '1' },
    args: () => ['sh', '-c', 'echo child=$$'],
    expect: { exit: 0, stdout: [/^child=\d+$/m], stderr: [/\S/] },
  },
];

export function placementsOf(c: Case): readonly Placement[] {
  return c.placements ?? ['pid1', 'subreaper'];
}

/** Which subjects run a case: the real tool, pidone, or both. */
export function runsOn(c: Case, subject: 'peer' | 'pidone'): boolean {
  return c.owner === 'theirs' || (c.owner === 'peer-only') === (subject === 'peer');
}

// ------------------------------------------------------------------ log transcripts

/**
 * A transcript: one workload run, with the same inputs, by the real tool and by pidone
 * in its mode, at each verbosity the tool has and in each placement listed; what each
 * logs is normalised (normaliseTranscript) and must be equal, line by line.
 */
export interface Transcript {
  readonly id: string;
  readonly tool: Tool;
  readonly title: string;
  readonly placements: readonly Placement[];
  /** The init's arguments after the verbosity flags (flags and command). */
  readonly args: (ctx: CaseContext) => string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly steps?: readonly Step[];
  readonly exit: number;
}

export interface Verbosity {
  readonly label: string;
  readonly flags: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

/** Every verbosity of each tool: tini's 0 to 4, dumb-init's quiet and debug (by flag and by variable). */
export const VERBOSITIES: Readonly<Record<Tool, readonly Verbosity[]>> = {
  tini: [
    { label: 'TINI_VERBOSITY=0', flags: [], env: { TINI_VERBOSITY: '0' } },
    { label: 'default (1)', flags: [] },
    { label: '-v (2)', flags: ['-v'] },
    { label: '-vv (3)', flags: ['-vv'] },
    { label: '-vvv (4)', flags: ['-vvv'] },
  ],
  'dumb-init': [
    { label: 'default', flags: [] },
    { label: '-v', flags: ['-v'] },
    { label: 'DUMB_INIT_DEBUG=1', flags: [], env: { DUMB_INIT_DEBUG: '1' } },
  ],
};

// Signals in one `send` step go in increasing order: a tool that finds several pending
// takes the lowest first (sigwait, sigtimedwait), so any interleaving logs the same.
export const TRANSCRIPTS: readonly Transcript[] = [
  {
    id: 'tini/log-signals',
    tool: 'tini',
    title: 'signals passed on, then the child exits 3; no other child left',
    placements: ['pid1', 'subreaper'],
    args: (ctx) => ['-w', '--', ...agent(ctx, false)],
    steps: [
      { do: 'ready' },
      // (Not SIGTTIN, SIGTTOU or SIGABRT: tini drops those and pidone passes them on,
      // a difference of behaviour, docs/compat.md, shown by tini/forwards-tty-and-abrt.)
      { do: 'forward', signals: [SIGUSR1], at: ['child'] },
      { do: 'forward', signals: [28], at: ['child'] },
      { do: 'stdin', text: 'exit 3\n' },
    ],
    exit: 3,
  },
  {
    id: 'tini/log-killed',
    tool: 'tini',
    title: '-g: a signal to the group, then the child dies of SIGUSR2 while its grandchild lives',
    placements: ['pid1', 'subreaper'],
    args: (ctx) => ['-g', '--', ...agent(ctx)],
    steps: [{ do: 'ready' }, { do: 'forward', signals: [SIGUSR1], at: ['child', 'grandchild'] }, { do: 'stdin', text: `die ${SIGUSR2}\n` }],
    exit: 128 + SIGUSR2,
  },
  {
    id: 'tini/log-orphan',
    tool: 'tini',
    title: '-w: an orphan is reaped (warned), then the child exits 4',
    placements: ['pid1', 'subreaper'],
    args: () => ['-w', '--', 'sh', '-c', '(sleep 0.1 &); sleep 0.6; exit 4'],
    exit: 4,
  },
  {
    id: 'tini/log-not-reaping',
    tool: 'tini',
    title: "not PID 1, not a subreaper: tini's three-line warning, then the child exits 6",
    placements: ['plain'],
    args: () => ['--', 'sh', '-c', 'exit 6'],
    exit: 6,
  },
  {
    id: 'dumb-init/log-signals',
    tool: 'dumb-init',
    title: 'setsid mode: a signal to the group, then the child exits 3 (its grandchild gets the last SIGTERM)',
    placements: ['pid1', 'subreaper'],
    args: (ctx) => agent(ctx),
    steps: [{ do: 'ready' }, { do: 'forward', signals: [SIGUSR1], at: ['child', 'grandchild'] }, { do: 'stdin', text: 'exit 3\n' }],
    exit: 3,
  },
  {
    id: 'dumb-init/log-rewrite',
    tool: 'dumb-init',
    title: 'DUMB_INIT_SETSID=0, -r 10:12 -r 28:0: translated, dropped, passed; the child dies of SIGUSR2',
    placements: ['pid1', 'subreaper'],
    env: { DUMB_INIT_SETSID: '0' },
    args: (ctx) => ['-r', '10:12', '-r', '28:0', ...agent(ctx, false)],
    steps: [
      { do: 'ready' },
      { do: 'send', signals: [SIGUSR1, 28] },
      { do: 'await', who: 'child', signal: SIGUSR2 },
      { do: 'forward', signals: [SIGRTMIN_1], at: ['child'] },
      { do: 'stdin', text: `die ${SIGUSR2}\n` },
    ],
    exit: 128 + SIGUSR2,
  },
  {
    id: 'dumb-init/log-tstp',
    tool: 'dumb-init',
    title: 'SIGTSTP passed on as SIGSTOP, the init suspends itself; SIGCONT; the child exits 0',
    placements: ['pid1', 'subreaper'],
    args: (ctx) => agent(ctx),
    steps: [
      { do: 'ready' },
      { do: 'send', signals: [SIGTSTP] },
      { do: 'state', who: 'child', stopped: true },
      { do: 'state', who: 'init', stopped: true, when: ['subreaper'] },
      { do: 'send', signals: [SIGCONT] },
      { do: 'state', who: 'child', stopped: false },
      { do: 'state', who: 'init', stopped: false },
      { do: 'await', who: 'child', signal: SIGCONT },
      { do: 'stdin', text: 'exit 0\n' },
    ],
    exit: 0,
  },
  {
    id: 'dumb-init/log-orphan',
    tool: 'dumb-init',
    title: '-c: an orphan is reaped as PID 1, then the child exits 4',
    placements: ['pid1'],
    args: () => ['-c', 'sh', '-c', '(sleep 0.1 &); sleep 0.6; exit 4'],
    exit: 4,
  },
];

/**
 * Transcripts with a terminal: the init runs under script(1), on a new pseudo-terminal
 * that is its session's controlling terminal. `shell` is the command script's shell
 * runs, with INIT standing for the init and its verbosity flags: `exec INIT ...` makes
 * the init the session leader in the foreground; `INIT ...; true` leaves the shell as
 * the leader. dumb-init in setsid mode then lets go of the terminal and its child
 * takes it; what each says about that, and the SIGHUP and SIGCONT the kernel sends
 * (tty_ioctl TIOCNOTTY), is compared line by line.
 */
export interface TerminalTranscript {
  readonly id: string;
  readonly title: string;
  readonly shell: string;
  readonly exit: number;
}

export const TERMINAL_TRANSCRIPTS: readonly TerminalTranscript[] = [
  { id: 'dumb-init/tty-leader', title: 'the session leader lets go of the terminal: the hand-off signals are ignored', shell: "exec INIT sh -c 'exit 3'", exit: 3 },
  { id: 'dumb-init/tty-not-leader', title: 'not the session leader: the child cannot take the terminal', shell: "INIT sh -c 'exit 3'; true", exit: 0 },
  { id: 'dumb-init/tty-single-child', title: '-c: the terminal is left alone', shell: "exec INIT -c sh -c 'exit 3'", exit: 3 },
];

/** tini's line prefix; its INFO, DEBUG and TRACE lines go to stdout, the rest to stderr. */
const TINI_LINE = /^\[(FATAL|WARN |INFO |DEBUG|TRACE) tini \((\d+)\)\] /;
const TINI_QUIET = /^\[(INFO |DEBUG|TRACE) tini /;

/** What a run logged, in the two streams tini writes (dumb-init writes only `loud`). */
export interface Logged {
  /** FATAL and WARN lines (with the continuation lines of tini's warning), dumb-init's lines, anything else on stderr. */
  readonly loud: readonly string[];
  /** tini's INFO, DEBUG and TRACE lines. */
  readonly quiet: readonly string[];
}

/**
 * The lines a run logged, normalised so that runs of two programs can be compared:
 * - tini prints its INFO, DEBUG and TRACE lines on stdout (fully buffered on a pipe, so
 *   they come out at its exit) and the rest on stderr; pidone prints all on stderr. Each
 *   stream's lines keep their order, and are compared as two lists.
 * - pids: tini's own becomes PID; every other pid in a line becomes <pid K>, K
 *   numbering the pids of the list in order of first appearance.
 * - tini's timer: tini also wakes up every idle second and, at verbosity 4, says "No
 *   child to reap" again; such a line (one that follows the end of a loop, not a
 *   signal) is dropped.
 * - dumb-init's child prints "setsid complete." (and a line before it when there is no
 *   terminal) between fork and exec, racing with its parent's lines: those lines are
 *   put right after "Child spawned".
 * - SIGCHLD coalesces: a child stopping, continuing and exiting in quick succession
 *   gives one SIGCHLD or several, as the init happened to wait. A SIGCHLD that found
 *   nothing to reap and is directly followed by another is dropped (dumb-init's
 *   "Received signal 17."; tini's "Received SIGCHLD" with its "No child to reap").
 *   tini's "Received SIGCHLD" right before the main child's last reap, and
 *   dumb-init's "Received signal 17." right before its main child's exit line, are
 *   dropped too (withoutFinalSigchld and withoutFinalDumbInitSigchld say why).
 */
export function normaliseTranscript(tool: Tool, subject: 'peer' | 'pidone', stdout: string, stderr: string): Logged {
  const lines = (text: string) => (text === '' ? [] : text.replace(/\n$/, '').split('\n'));
  let loud = lines(stderr);
  let quiet: string[] = [];
  if (tool === 'tini') {
    const fromStdout = lines(stdout).filter((l) => TINI_LINE.test(l));
    quiet = [...(subject === 'peer' ? fromStdout : []), ...loud.filter((l) => TINI_QUIET.test(l))];
    loud = loud.filter((l) => !TINI_QUIET.test(l));
    if (subject === 'pidone') loud = [...loud, ...fromStdout.map((l) => `on stdout: ${l}`)];
    quiet = quiet.filter((l, i) => !(l.endsWith('] No child to reap') && (i === 0 || /\] (No child to (reap|wait)|Spawned child process .*|Registered as child subreaper)$/.test(quiet[i - 1]!))));
    quiet = dropCoalescable(quiet, (l) => l.endsWith('] Received SIGCHLD'), (l) => l.endsWith('] No child to reap'));
    quiet = withoutFinalSigchld(quiet);
  } else {
    const childSide = (l: string) => l === '[dumb-init] setsid complete.' || l.startsWith('[dumb-init] Unable to attach to controlling tty');
    const fromChild = loud.filter(childSide);
    loud = loud.filter((l) => !childSide(l));
    const spawned = loud.findIndex((l) => l.startsWith('[dumb-init] Child spawned with PID '));
    loud.splice(spawned + 1, 0, ...fromChild);
    loud = dropCoalescable(loud, (l) => l === '[dumb-init] Received signal 17.', () => false);
    // dumb-init takes pending signals with sigwait(3), lowest number first: when its
    // child exits before dumb-init has taken the hand-off's SIGCONT (18), SIGCHLD (17)
    // comes first and dumb-init exits without ever saying it got SIGCONT. Whether it
    // does is a race of the machine's load, so the SIGCONT pair is left out on both sides.
    loud = withoutHandOffSigcont(loud);
    loud = withoutFinalDumbInitSigchld(loud);
  }
  return { loud: numberPids(loud), quiet: numberPids(quiet) };
}

/**
 * tini reaps after every signal it handles, not only after SIGCHLD: when the main child
 * exits while tini passes another signal on, tini reaps it and exits without ever
 * taking the SIGCHLD, so its "Received SIGCHLD" before the last reap is there or not as
 * the machine's load decides. That one line is left out on both sides.
 */
function withoutFinalSigchld(lines: readonly string[]): string[] {
  const out = [...lines];
  const exited = out.findIndex((l) => /\] Main child exited /.test(l));
  if (exited >= 2 && /\] Reaped child with pid: /.test(out[exited - 1]!) && out[exited - 2]!.endsWith('] Received SIGCHLD')) {
    out.splice(exited - 2, 1);
  }
  return out;
}

/**
 * The same race as tini's (withoutFinalSigchld), in dumb-init's words: dumb-init reaps
 * every child that has ended on each SIGCHLD it takes; when the main child continues
 * and exits in quick succession, the continue's SIGCHLD may reap the exit, and the
 * exit's own SIGCHLD is never taken before dumb-init exits. So the "Received signal
 * 17." right before the main child's exit line is there or not as the load decides,
 * for dumb-init as for pidone, and is left out on both sides.
 */
function withoutFinalDumbInitSigchld(lines: readonly string[]): string[] {
  const out = [...lines];
  const main = /^\[dumb-init\] Child spawned with PID (\d+)\.$/.exec(out.find((l) => l.startsWith('[dumb-init] Child spawned with PID ')) ?? '')?.[1];
  if (main === undefined) return out;
  const exited = out.findIndex((l) => l.startsWith(`[dumb-init] A child with PID ${main} exited`));
  if (exited >= 1 && out[exited - 1] === '[dumb-init] Received signal 17.') out.splice(exited - 1, 1);
  return out;
}

/** `lines` without each "Received signal 18." that the hand-off's "Ignoring" line follows, nor that line. */
function withoutHandOffSigcont(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === '[dumb-init] Received signal 18.' && lines[i + 1] === '[dumb-init] Ignoring tty hand-off signal 18.') {
      i++;
      continue;
    }
    out.push(lines[i]!);
  }
  return out;
}

/** Drops each SIGCHLD line (with the `nothingReaped` line after it, if any) that is directly followed by another. */
function dropCoalescable(lines: readonly string[], isSigchld: (l: string) => boolean, nothingReaped: (l: string) => boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (isSigchld(l)) {
      const after = lines[i + 1] !== undefined && nothingReaped(lines[i + 1]!) ? i + 2 : i + 1;
      if (lines[after] !== undefined && isSigchld(lines[after]!)) {
        i = after - 1;
        continue;
      }
    }
    out.push(l);
  }
  return out;
}

function numberPids(lines: readonly string[]): string[] {
  const seen = new Map<string, number>();
  const name = (pid: string) => {
    if (!seen.has(pid)) seen.set(pid, seen.size + 1);
    return `<pid ${seen.get(pid)}>`;
  };
  return lines.map((l) =>
    l
      .replace(/^(\[\w+ +tini) \(\d+\)\]/, '$1 (PID)]')
      .replace(/(with pid:? ')(\d+)'/, (_, a: string, pid: string) => `${a}${name(pid)}'`)
      .replace(/(pid=)(\d+)/, (_, a: string, pid: string) => `${a}${name(pid)}`)
      .replace(/(PID )(\d+)/, (_, a: string, pid: string) => `${a}${name(pid)}`),
  );
}
