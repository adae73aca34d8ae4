/**
 * `--compat dumb-init`: dumb-init 1.2's command line, environment and defaults,
 * translated into a pidone Config. Pure: reads only its arguments. Differences from
 * dumb-init, and why, are in docs/compat.md.
 *
 * dumb-init's rules, as reproduced here:
 * - getopt_long with "+hvVcr:": options stop at the first word that is not one; long
 *   names may be abbreviated while unambiguous. A bad option exits 1 with getopt's
 *   message alone; no program exits 1 with a two-line usage.
 * - -h/--help and -V/--version print on stderr and exit 0 when reached.
 * - -r/--rewrite s:r (read as sscanf "%d:%d": s 1-31, r 0-31, 0 drops s; anything
 *   after r is ignored). Repeatable; a later one for the same s wins.
 * - setsid mode by default: the child leads a new session and gets the terminal, and
 *   signals go to its process group. -c/--single-child or DUMB_INIT_SETSID=0 turn it
 *   off: no new session, signals to the child alone.
 * - In setsid mode SIGTSTP, SIGTTIN and SIGTTOU are passed on as SIGSTOP unless -r
 *   says otherwise: the child's group is an orphaned process group in its own session,
 *   where the kernel discards those three stop signals.
 * - After passing on SIGTSTP, SIGTTIN or SIGTTOU (even when -r dropped it), dumb-init
 *   stops itself with SIGSTOP; SIGCONT resumes it and is passed on.
 * - -v/--verbose or DUMB_INIT_DEBUG=1 print debugging output.
 * - When the main child exits, dumb-init passes on one SIGTERM (rewritten by -r like
 *   any other) and exits with the child's status at once. In -c mode that SIGTERM is
 *   aimed at the reaped child and reaches nobody, so it is only sent in setsid mode.
 */
// Not ../config.js at run time: that loads yargs, which compat modes do not need.
import { compatConfig, ConfigError } from '../config-defaults.js';
import type { ParseResult } from '../config.js';
import { JOB_CONTROL_STOP_SIGNALS, signalName, type SignalName } from '../signals.js';
import { getopt } from './getopt.js';
import { printResult, type CompatParseOptions } from './tini.js';

/** The dumb-init release whose behaviour pidone follows. */
export const DUMB_INIT_VERSION = '1.2.5';

/** dumb-init's exit code for a bad command line. */
export const DUMB_INIT_USAGE_EXIT = 1;

/** dumb-init's highest signal number for -r. */
const MAXSIG = 31;

const LONG_OPTIONS = [
  { name: 'help', hasArg: false, short: 'h' },
  { name: 'single-child', hasArg: false, short: 'c' },
  { name: 'rewrite', hasArg: true, short: 'r' },
  { name: 'verbose', hasArg: false, short: 'v' },
  { name: 'version', hasArg: false, short: 'V' },
] as const;

/** `dumb-init --version`, as dumb-init 1.2.5 prints it (on stderr). */
export function dumbInitVersionLine(): string {
  return `dumb-init v${DUMB_INIT_VERSION}`;
}

/** dumb-init's --help, as dumb-init 1.2.5 prints it (on stderr), naming argv[0] as given. */
export function dumbInitHelp(programName = 'dumb-init'): string {
  return [
    dumbInitVersionLine(),
    `Usage: ${programName} [option] command [[arg] ...]`,
    '',
    'dumb-init is a simple process supervisor that forwards signals to children.',
    'It is designed to run as PID1 in minimal container environments.',
    '',
    'Optional arguments:',
    '   -c, --single-child   Run in single-child mode.',
    '                        In this mode, signals are only proxied to the',
    '                        direct child and not any of its descendants.',
    '   -r, --rewrite s:r    Rewrite received signal s to new signal r before proxying.',
    '                        To ignore (not proxy) a signal, rewrite it to 0.',
    '                        This option can be specified multiple times.',
    '   -v, --verbose        Print debugging information to stderr.',
    '   -h, --help           Print this help message and exit.',
    '   -V, --version        Print the current version and exit.',
    '',
    'Full help is available online at https://github.com/Yelp/dumb-init',
    '',
  ].join('\n');
}

export const DUMB_INIT_REWRITE_HELP = [
  'Usage: -r option takes <signum>:<signum>, where <signum> is between 1 and 31.',
  'This option can be specified multiple times.',
  'Use --help for full usage.',
].join('\n');

/** sscanf(arg, "%d:%d") and dumb-init's range checks: [s, r] or null. */
export function parseDumbInitRewrite(arg: string): [number, number] | null {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+):[ \t\n\v\f\r]*([+-]?\d+)/.exec(arg);
  if (!m) return null;
  const from = Number(m[1]);
  const to = Number(m[2]);
  if (from < 1 || from > MAXSIG || to < 0 || to > MAXSIG) return null;
  return [from, to];
}

export function parseDumbInitArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  version: string,
  options: CompatParseOptions = {},
): ParseResult {
  const programName = options.programName ?? 'dumb-init';
  const outcome: { early: ParseResult | null; error: string | null } = { early: null, error: null };
  let useSetsid = true;
  let debug = false;
  // signal number -> number to send (0: drop), in the order given.
  const rewrites = new Map<number, number>();

  const command = getopt(argv, { shortOptions: '+hvVcr:', longOptions: LONG_OPTIONS, programName, env }, (event) => {
    if (event.kind === 'error') {
      outcome.error = event.message;
      return false;
    }
    switch (event.option) {
      case 'h':
        outcome.early = printResult(dumbInitHelp(programName), 'stderr');
        return false;
      case 'V':
        outcome.early = printResult(`${dumbInitVersionLine()}\n`, 'stderr');
        return false;
      case 'v':
        debug = true;
        return true;
      case 'c':
        useSetsid = false;
        return true;
      case 'r': {
        const parsed = parseDumbInitRewrite(event.value ?? '');
        if (parsed === null) {
          outcome.error = DUMB_INIT_REWRITE_HELP;
          return false;
        }
        rewrites.set(parsed[0], parsed[1]);
        return true;
      }
      default:
        return true;
    }
  });
  if (outcome.early !== null) return outcome.early;
  if (outcome.error !== null || command === null) {
    throw new ConfigError(outcome.error ?? `${programName}: bad command line`, DUMB_INIT_USAGE_EXIT);
  }
  if (command.length === 0) {
    throw new ConfigError(
      `Usage: ${programName} [option] program [args]\nTry ${programName} --help for full usage.`,
      DUMB_INIT_USAGE_EXIT,
    );
  }

  if (env['DUMB_INIT_DEBUG'] === '1') debug = true;
  if (env['DUMB_INIT_SETSID'] === '0') useSetsid = false;

  const rewrite = new Map<SignalName, SignalName | null>();
  for (const [from, to] of rewrites) rewrite.set(signalName(from), to === 0 ? null : signalName(to));
  if (useSetsid) {
    // The job-control signals dumb-init turns into SIGSTOP in setsid mode.
    for (const signal of JOB_CONTROL_STOP_SIGNALS) if (!rewrite.has(signal)) rewrite.set(signal, 'SIGSTOP');
  }

  // What dumb-init changes from pidone's defaults. Not the subreaper: dumb-init is not
  // one, but pidone keeps its own default (a subreaper when not PID 1) so that orphans
  // are reaped either way (docs/compat.md).
  const config = compatConfig('dumb-init', command, env, {
    setsid: useSetsid,
    singleChild: !useSetsid,
    rewrite,
    ...(debug ? { verbosity: 2 } : {}),
    remaining: 'leave',
    stopWithChild: true,
    termGroupOnExit: useSetsid,
  });
  return { kind: 'run', config };
}
