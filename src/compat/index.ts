/**
 * Compatibility modes: which tool pidone stands in for, that tool's command line, and
 * its way of reporting a command that cannot be run. docs/compat.md has the details
 * and every difference that remains.
 *
 * The mode comes from, first to last:
 * 1. a leading `--compat MODE` (or `--compat=MODE`) on the command line;
 * 2. PIDONE_COMPAT in the environment (empty counts as unset);
 * 3. the name pidone was invoked by: a link (or copy of the launcher) named `tini`,
 *    `tini-static` or `docker-init` means tini, `dumb-init` means dumb-init.
 * MODE is `tini`, `dumb-init`, or `none` for pidone's own command line.
 */
import { ConfigError, type CompatMode, type LogFormat } from '../config-defaults.js';
import type { ParseResult } from '../config.js';
import { pidoneExecFailure, type ExecFailure } from '../exit-status.js';
import { strerror, type Errno } from '../kernel/kernel.js';
import { parseDumbInitArgs } from './dumb-init.js';
import { parseTiniArgs, type CompatParseOptions } from './tini.js';

export { parseDumbInitArgs, dumbInitVersionLine, DUMB_INIT_VERSION } from './dumb-init.js';
export { parseTiniArgs, tiniVersionLine, TINI_VERSION, type CompatParseOptions } from './tini.js';
export { compatLineFormat } from './log-format.js';

export const COMPAT_MODES: readonly CompatMode[] = ['tini', 'dumb-init', 'none'];

/** Names a link to pidone may have, and the mode each selects. */
export const COMPAT_LINK_NAMES: ReadonlyMap<string, Exclude<CompatMode, 'none'>> = new Map([
  ['tini', 'tini'],
  ['tini-static', 'tini'],
  ['docker-init', 'tini'],
  ['dumb-init', 'dumb-init'],
]);

export interface CompatSelection {
  readonly mode: CompatMode;
  /** The arguments left for that mode's parser (a leading --compat removed). */
  readonly argv: readonly string[];
  /** What chose the mode, for logs and errors. */
  readonly source: 'flag' | 'env' | 'argv0' | 'default';
}

function checkMode(value: string, where: string): CompatMode {
  if ((COMPAT_MODES as readonly string[]).includes(value)) return value as CompatMode;
  throw new ConfigError(`pidone: ${where}: '${value}' is not one of ${COMPAT_MODES.join(', ')}`);
}

/**
 * Which mode applies, from argv0 (pidone's own path as invoked: process.argv[1] under
 * the launcher), the environment, and the arguments (without node and the script).
 */
export function selectCompat(argv0: string, env: NodeJS.ProcessEnv, argv: readonly string[]): CompatSelection {
  const first = argv[0];
  if (first === '--compat') {
    const value = argv[1];
    if (value === undefined) throw new ConfigError(`pidone: --compat needs a value: ${COMPAT_MODES.join(', ')}`);
    return { mode: checkMode(value, '--compat'), argv: argv.slice(2), source: 'flag' };
  }
  if (first !== undefined && first.startsWith('--compat=')) {
    return { mode: checkMode(first.slice('--compat='.length), '--compat'), argv: argv.slice(1), source: 'flag' };
  }
  const fromEnv = env['PIDONE_COMPAT'];
  if (fromEnv !== undefined && fromEnv !== '') return { mode: checkMode(fromEnv, 'PIDONE_COMPAT'), argv, source: 'env' };
  const name = argv0.slice(argv0.lastIndexOf('/') + 1);
  const linked = COMPAT_LINK_NAMES.get(name);
  if (linked !== undefined) return { mode: linked, argv, source: 'argv0' };
  return { mode: 'none', argv, source: 'default' };
}

/**
 * The parser of a compat mode's command line. For 'none' use parseArgs from
 * src/config.ts.
 */
export function parseCompatArgs(
  mode: Exclude<CompatMode, 'none'>,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  version: string,
  options: CompatParseOptions = {},
): ParseResult {
  const parsed = mode === 'tini' ? parseTiniArgs(argv, env, version, options) : parseDumbInitArgs(argv, env, version, options);
  if (parsed.kind !== 'run') return parsed;
  // PIDONE_LOG_FORMAT; the settings' own variables (PIDONE_GRACE, PIDONE_DRAIN_DELAY)
  // were read by compatConfig from the table.
  return { kind: 'run', config: { ...parsed.config, logFormat: compatLogFormat(env) } };
}

/**
 * PIDONE_LOG_FORMAT: unset or empty, the tool's own lines (./log-format.ts); `json` or
 * `pretty`, pidone's own logs (docs/logging.md).
 */
export function compatLogFormat(env: NodeJS.ProcessEnv): LogFormat | undefined {
  const value = env['PIDONE_LOG_FORMAT'];
  if (value === undefined || value === '') return undefined;
  if (value === 'json' || value === 'pretty') return value;
  throw new ConfigError(`pidone: PIDONE_LOG_FORMAT: '${value}' is not one of json, pretty`);
}

/**
 * The stream a `print` result goes to: dumb-init prints its help and version on
 * stderr, tini on stdout; pidone's own command line leaves `stream` out (stdout).
 */
export function printStream(result: ParseResult): 'stdout' | 'stderr' {
  return result.kind === 'print' && result.stream === 'stderr' ? 'stderr' : 'stdout';
}

export type { ExecFailure } from '../exit-status.js';

/**
 * What each tool says, and exits with, when the command cannot be executed:
 * - tini: `[FATAL tini (PID)] exec X failed: <strerror>`, 127 for ENOENT, 126 for
 *   EACCES, 1 for anything else (PID is the child's in tini, which reports from the
 *   forked child; pidone reports from itself, so pass the pid to show);
 * - dumb-init: `[dumb-init] X: <strerror>`, exit 2 whatever the error;
 * - none: pidone's own report (pidoneExecFailure in src/exit-status.ts).
 */
export function execFailureReport(mode: CompatMode, file: string, errnoCode: Errno, pid: number = process.pid): ExecFailure {
  switch (mode) {
    case 'tini':
      return {
        exitCode: errnoCode === 'ENOENT' ? 127 : errnoCode === 'EACCES' ? 126 : 1,
        line: `[FATAL tini (${pid})] exec ${file} failed: ${strerror(errnoCode)}`,
      };
    case 'dumb-init':
      return { exitCode: 2, line: `[dumb-init] ${file}: ${strerror(errnoCode)}` };
    default:
      return pidoneExecFailure(file, errnoCode);
  }
}
