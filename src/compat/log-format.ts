/**
 * The log lines of the compat modes: pidone's log events, said in the words and at the
 * levels tini 0.19 or dumb-init 1.2.5 use for the same moment, so that a script or a
 * test that reads the tool's output reads pidone's the same way. The policy
 * (src/init.ts) logs its own events; only this file knows how each tool says them.
 * docs/compat.md lists what is reproduced and what is not.
 *
 * - tini: `[LEVEL tini (PID)] text`, LEVEL one of FATAL, "WARN ", "INFO ", DEBUG,
 *   TRACE, shown when tini's verbosity (1 by default, -v adds one, TINI_VERBOSITY
 *   replaces it) is above 0, 1, 2, 3 respectively (FATAL always). tini prints INFO and
 *   below on stdout; pidone keeps every line on stderr, because stdout is the child's.
 * - dumb-init: `[dumb-init] text`, only in debug mode (-v, DUMB_INIT_DEBUG=1).
 *
 * Events pidone has and the tool has not: below warn they print nothing; at warn and
 * above (trouble the user must see) they print pidone's message in the tool's frame.
 */
import { createRequire } from 'node:module';
import type { Config } from '../config-defaults.js';
import { levelFor, type LevelName, type LineFormat } from '../logger.js';
import { asSignalName, signalNumber, type SignalName } from '../signals.js';

/** glibc's strsignal(3) for Linux's signals, which tini prints. */
const STRSIGNAL: readonly string[] = [
  '',
  'Hangup',
  'Interrupt',
  'Quit',
  'Illegal instruction',
  'Trace/breakpoint trap',
  'Aborted',
  'Bus error',
  'Floating point exception',
  'Killed',
  'User defined signal 1',
  'Segmentation fault',
  'User defined signal 2',
  'Broken pipe',
  'Alarm clock',
  'Terminated',
  'Stack fault',
  'Child exited',
  'Continued',
  'Stopped (signal)',
  'Stopped',
  'Stopped (tty input)',
  'Stopped (tty output)',
  'Urgent I/O condition',
  'CPU time limit exceeded',
  'File size limit exceeded',
  'Virtual timer expired',
  'Profiling timer expired',
  'Window changed',
  'I/O possible',
  'Power failure',
  'Bad system call',
];

export function strsignal(signo: number): string {
  if (signo >= 1 && signo < STRSIGNAL.length) return STRSIGNAL[signo]!;
  // glibc counts real-time signals from its SIGRTMIN, 34 on Linux.
  if (signo >= 34 && signo <= 64) return `Real-time signal ${signo - 34}`;
  return `Unknown signal ${signo}`;
}

/** A wait status as the policy logs it (describeStatus in src/init.ts): "exit N", "killed by SIGX[ (core dumped)]". */
export function parseStatus(status: unknown): { code: number } | { signal: number } | null {
  if (typeof status !== 'string') return null;
  const exited = /^exit (\d+)$/.exec(status);
  if (exited) return { code: Number(exited[1]) };
  const killed = /^killed by (\S+)/.exec(status);
  if (killed) return { signal: signalNumber(asSignalName(killed[1]!)) };
  return null;
}

/** pidone's message and fields, for events the tool has no line for. */
function ownWords(fields: Readonly<Record<string, unknown>>, message: string): string {
  const rest = Object.entries(fields)
    .filter(([key]) => key !== 'component')
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return [message, ...rest].join(' ');
}

const AT_LEAST_WARN: ReadonlySet<LevelName> = new Set(['warn', 'error', 'fatal']);

// ---- tini --------------------------------------------------------------------------

/** tini's levels, as printed, and the verbosity above which each shows. */
const TINI_LEVELS = { FATAL: -Infinity, 'WARN ': 0, 'INFO ': 1, DEBUG: 2, TRACE: 3 } as const;
type TiniLevel = keyof typeof TINI_LEVELS;

/** tini's warning when it cannot reap orphans: three lines, the prefix on the first. */
export const TINI_REAPER_WARNING = [
  "Tini is not running as PID 1 and isn't registered as a child subreaper.",
  "Zombie processes will not be re-parented to Tini, so zombie reaping won't work.",
  'To fix the problem, use the -s option or set the environment variable TINI_SUBREAPER to register Tini as a child subreaper, or run Tini as PID 1.',
].join('\n');

/**
 * tini's lines. tini runs one loop: wait up to a second for one signal (DEBUG
 * "Received SIGCHLD" or "Passing signal: '<strsignal>'"), then reap until waitpid
 * says nothing more (DEBUG "Reaped child with pid: 'N'" each, then TRACE "No child to
 * reap", or "No child to wait" once it has no child at all), and once the main child
 * has been reaped, TRACE "Exiting: child has exited". pidone reaps only on SIGCHLD
 * and never wakes up idle, so the TRACE line after a passed signal is said with it, and
 * tini's extra "No child to reap" of each idle second is not.
 */
export function tiniLineFormat(config: Config, pid: number): LineFormat {
  const verbosity = config.verbosity + 1;
  let mainExited = false;
  /** Inside a reap pass: its "Received SIGCHLD" was said. */
  let reaping = false;
  const line = (level: TiniLevel, text: string): string =>
    verbosity > TINI_LEVELS[level] ? `[${level} tini (${pid})] ${text}\n` : '';
  const passStart = (): string => {
    if (reaping) return '';
    reaping = true;
    return line('DEBUG', 'Received SIGCHLD');
  };

  const format = (level: LevelName, fields: Readonly<Record<string, unknown>>, message: string): string => {
    switch (message) {
      case 'became a child subreaper':
        return line('TRACE', 'Registered as child subreaper');
      case 'started child': {
        const command = fields['command'] as readonly string[] | undefined;
        return line('INFO ', `Spawned child process '${command?.[0] ?? ''}' with pid '${String(fields['child'])}'`);
      }
      case 'received signal': {
        if (fields['signal'] === 'SIGCHLD') {
          reaping = true;
          return line('DEBUG', 'Received SIGCHLD');
        }
        // Dropped by a rewrite table (none in tini mode today): nothing passed, nothing said.
        if ('rewrittenTo' in fields && fields['rewrittenTo'] === null) return '';
        return (
          line('DEBUG', `Passing signal: '${strsignal(signalNumber(asSignalName(String(fields['signal']))))}'`) +
          (mainExited ? '' : line('TRACE', 'No child to reap'))
        );
      }
      case 'forwarded signal':
        return '';
      case 'nothing to forward to (ESRCH)':
        return line('WARN ', 'Child was dead when forwarding signal');
      case 'reaped orphan':
        return (
          passStart() +
          line('DEBUG', `Reaped child with pid: '${String(fields['child'])}'`) +
          (level === 'warn' ? line('WARN ', `Reaped zombie process with pid=${String(fields['child'])}`) : '')
        );
      case 'child exited': {
        if (!('exitCode' in fields)) break; // pidone's own shutdown after an internal error
        mainExited = true;
        const status = parseStatus(fields['status']);
        const how =
          status && 'signal' in status
            ? `Main child exited with signal (with signal '${strsignal(status.signal)}')`
            : `Main child exited normally (with status '${status?.code ?? ''}')`;
        return passStart() + line('DEBUG', `Reaped child with pid: '${String(fields['child'])}'`) + line('INFO ', how);
      }
      case 'reap pass': {
        if (!reaping) return '';
        reaping = false;
        return (
          line('TRACE', fields['noChildren'] === true ? 'No child to wait' : 'No child to reap') +
          (mainExited ? line('TRACE', 'Exiting: child has exited') : '')
        );
      }
      default:
        if (message.startsWith('not PID 1 and not a subreaper')) return line('WARN ', TINI_REAPER_WARNING);
    }
    if (!AT_LEAST_WARN.has(level)) return '';
    return line(level === 'warn' ? 'WARN ' : 'FATAL', ownWords(fields, message));
  };
  return { level: levelFor(config.verbosity), format };
}

// ---- dumb-init ---------------------------------------------------------------------

/** strerror(ENOTTY) and its number, which dumb-init prints when stdin is no terminal. */
const ENOTTY_TEXT = 'errno=25 Inappropriate ioctl for device';

/**
 * dumb-init's lines (its DEBUG macro: only in debug mode). dumb-init handles one
 * signal at a time: "Received signal N.", then for SIGCHLD one line per reaped child,
 * and for the main child the SIGTERM it passes on and "Goodbye", after which it has
 * exited and says nothing more; for any other signal the rewrite ("Translating signal
 * N to M."), the forward ("Forwarded signal M to children.", said whether or not
 * anyone got it, or "Not forwarding signal 0 to children (ignored)."), and for
 * SIGTSTP, SIGTTIN and SIGTTOU "Suspending self due to TTY signal.".
 */
export function dumbInitLineFormat(config: Config, env: NodeJS.ProcessEnv, stdinIsTerminal: () => boolean = isattyStdin): LineFormat {
  const debug = config.verbosity >= 2;
  let begun = false;
  let exited = false;
  const lines = (...texts: string[]): string => (debug ? texts.map((t) => `[dumb-init] ${t}\n`).join('') : '');
  /** forward_signal(): the rewrite, then the forward. */
  const forwarding = (signal: SignalName): string[] => {
    const number = signalNumber(signal);
    if (!config.rewrite.has(signal)) return [`Forwarded signal ${number} to children.`];
    const to = config.rewrite.get(signal) ?? null;
    const toNumber = to === null ? 0 : signalNumber(to);
    return [
      `Translating signal ${number} to ${toNumber}.`,
      toNumber === 0 ? 'Not forwarding signal 0 to children (ignored).' : `Forwarded signal ${toNumber} to children.`,
    ];
  };
  const reaped = (fields: Readonly<Record<string, unknown>>): { line: string; code: number } => {
    const status = parseStatus(fields['status']);
    const child = String(fields['child']);
    if (status && 'signal' in status) {
      return { line: `A child with PID ${child} was terminated by signal ${status.signal}.`, code: 128 + status.signal };
    }
    return { line: `A child with PID ${child} exited with exit status ${status?.code ?? 0}.`, code: status?.code ?? 0 };
  };

  /** Inside a reap pass: its "Received signal 17." was said (pidone also reaps right after the spawn). */
  let reaping = false;
  const passStart = (): string => {
    if (reaping) return '';
    reaping = true;
    return lines(`Received signal ${signalNumber('SIGCHLD')}.`);
  };
  /** What letting go of stdin's terminal before the fork came to (setsid mode). */
  let attachError: string | null = null;
  let handOff = false;

  const said = (level: LevelName, fields: Readonly<Record<string, unknown>>, message: string): string => {
    switch (message) {
      // In setsid mode dumb-init lets go of stdin's terminal (TIOCNOTTY) before the
      // fork, and its child takes it (TIOCSCTTY) after setsid(), each saying how it went.
      case 'detached from the terminal (TIOCNOTTY); ignoring the SIGHUP and SIGCONT it causes':
        handOff = true;
        return lines('Detached from controlling tty, ignoring the first SIGHUP and SIGCONT we receive.');
      case '--setsid: pidone does not lead its session, so the child cannot take the terminal':
      case 'started in the background; not taking the terminal':
        if (!config.setsid) return '';
        // Not the session leader: TIOCNOTTY drops the terminal for dumb-init alone, and
        // it stays its session's, which the child's TIOCSCTTY may then not take
        // (ioctl_tty(2): EPERM).
        attachError = 'errno=1 Operation not permitted';
        return lines('Detached from controlling tty, but was not session leader.');
      case 'stdin is a terminal but not ours; leaving it alone':
        return config.setsid ? lines(`Unable to detach from controlling tty (${ENOTTY_TEXT}).`) : '';
      case 'started child': {
        const spawned = `Child spawned with PID ${String(fields['child'])}.`;
        if (!config.setsid) return lines(spawned);
        if (!stdinIsTerminal()) {
          // Without a terminal both ioctls fail with ENOTTY.
          return lines(
            `Unable to detach from controlling tty (${ENOTTY_TEXT}).`,
            spawned,
            `Unable to attach to controlling tty (${ENOTTY_TEXT}).`,
            'setsid complete.',
          );
        }
        // The SIGHUP and SIGCONT that TIOCNOTTY sent dumb-init's group are pending by
        // now, and dumb-init takes them first; pidone has them too, and ignores them.
        const handedOff = handOff ? [1, 18].flatMap((n) => [`Received signal ${n}.`, `Ignoring tty hand-off signal ${n}.`]) : [];
        return lines(
          spawned,
          ...(attachError !== null ? [`Unable to attach to controlling tty (${attachError}).`] : []),
          'setsid complete.',
          ...handedOff,
        );
      }
      case 'ignoring the signal our own TIOCNOTTY caused':
        return '';
      case 'received signal': {
        const signal = asSignalName(String(fields['signal']));
        const received = `Received signal ${signalNumber(signal)}.`;
        if (signal !== 'SIGCHLD') return lines(received, ...forwarding(signal));
        reaping = true;
        return lines(received);
      }
      case 'reap pass':
        reaping = false;
        return '';
      case 'stopping pidone with the child (--compat dumb-init)':
        return lines('Suspending self due to TTY signal.');
      case 'forwarded signal':
      case 'nothing to forward to (ESRCH)':
        return '';
      case 'reaped orphan':
        return passStart() + lines(reaped(fields).line);
      case 'child exited': {
        if (!('exitCode' in fields)) break;
        const { line, code } = reaped(fields);
        exited = true;
        // dumb-init passes a SIGTERM on (in -c mode to the pid it has just reaped) and
        // says so either way, then exits.
        return passStart() + lines(line, ...forwarding('SIGTERM'), `Child exited with status ${code}. Goodbye.`);
      }
    }
    if (!AT_LEAST_WARN.has(level)) return '';
    return `[dumb-init] ${ownWords(fields, message)}\n`;
  };

  const format = (level: LevelName, fields: Readonly<Record<string, unknown>>, message: string): string => {
    let text = '';
    if (!begun) {
      begun = true;
      // What dumb-init says as it reads its environment, before anything else.
      if (env['DUMB_INIT_DEBUG'] === '1') text += lines('Running in debug mode.');
      if (env['DUMB_INIT_SETSID'] === '0') text += lines('Not running in setsid mode.');
    }
    // After "Goodbye" dumb-init has exited.
    if (exited) return text;
    return text + said(level, fields, message);
  };
  return { level: debug ? 'debug' : levelFor(config.verbosity), format };
}

function isattyStdin(): boolean {
  // node:tty is required here, not imported: it loads Node's net and stream modules,
  // which only a dumb-init mode in debug mode needs.
  const require = createRequire(import.meta.url);
  return (require('node:tty') as typeof import('node:tty')).isatty(0);
}

/** The line format of a compat mode, for createLogger. */
export function compatLineFormat(config: Config, env: NodeJS.ProcessEnv, pid: number): LineFormat | undefined {
  if (config.compat === 'tini') return tiniLineFormat(config, pid);
  if (config.compat === 'dumb-init') return dumbInitLineFormat(config, env);
  return undefined;
}
