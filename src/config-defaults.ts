/**
 * The configuration pidone runs with, its defaults and its error type. Light on
 * purpose: the common `pidone -- cmd` runs with defaultConfig() and never loads the
 * command-line parser (src/config.ts, which is yargs).
 */
import { ACCEPTED_DURATION_FORMS, parseDuration } from './duration.js';
import type { RemapTable } from './exit-status.js';
import type { RewriteTable } from './signal-policy.js';
import type { SignalName } from './signals.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** The exit code for this error: 2 natively; compat modes use their tool's code. */
  constructor(
    message: string,
    readonly exitCode: number = 2,
  ) {
    super(message);
  }
}

export type LogFormat = 'json' | 'pretty';
/** Which tool's command line and behaviour pidone follows (docs/compat.md). */
export type CompatMode = 'none' | 'tini' | 'dumb-init';
export type RemainingPolicy = 'kill' | 'wait' | 'leave';

export interface Config {
  /** The command and its arguments: command[0] is looked up in PATH like a shell does. */
  readonly command: readonly string[];
  /** Forward signals to the main child only, not to its process group. */
  readonly singleChild: boolean;
  /** Run the child in a new session (setsid) instead of a new process group. */
  readonly setsid: boolean;
  /** 'auto': become a subreaper when not PID 1; 'on': always; 'off': never (warn). */
  readonly subreaper: 'auto' | 'on' | 'off';
  readonly rewrite: RewriteTable;
  readonly remapExit: RemapTable;
  /** Log reaped orphans at warn instead of debug. */
  readonly warnOnReap: boolean;
  /** 0 = warn (default), 1 = info, 2 = debug, 3+ = trace. */
  readonly verbosity: number;
  /** Undefined: json unless stderr is a terminal. */
  readonly logFormat: LogFormat | undefined;
  /** What to do with processes left when the main child has exited. */
  readonly remaining: RemainingPolicy;
  /** How long `remaining: kill` waits after SIGTERM before SIGKILL. */
  readonly graceMs: number;
  /**
   * How long the first SIGTERM is held before it is forwarded, while the child keeps
   * serving (a load balancer's removal takes that long to spread); 0 forwards at once.
   */
  readonly drainDelayMs: number;
  /** Run pidone as its own child: refused unless asked for (a loop spawns forever). */
  readonly allowNested: boolean;
  /** Run in a new PID namespace (and mount namespace with a fresh /proc) as its PID 1. */
  readonly pidNamespace: boolean;
  /** PR_SET_PDEATHSIG: the signal pidone gets when its parent dies, or null. */
  readonly parentDeathSignal: SignalName | null;
  /** Which tool pidone is standing in for. */
  readonly compat: CompatMode;
  /**
   * dumb-init's job control: after forwarding SIGTSTP, SIGTTIN or SIGTTOU, stop
   * pidone itself (SIGSTOP) until SIGCONT. Never in native mode: PID 1 does not stop.
   */
  readonly stopWithChild: boolean;
  /** dumb-init: when the main child exits, send one SIGTERM to its process group. */
  readonly termGroupOnExit: boolean;
}

/** The configuration of `pidone -- command...`: every default, for tests and the library API. */
export function defaultConfig(command: readonly string[]): Config {
  return {
    command,
    singleChild: false,
    setsid: false,
    subreaper: 'auto',
    rewrite: new Map(),
    remapExit: new Map(),
    warnOnReap: false,
    verbosity: 0,
    logFormat: undefined,
    remaining: 'kill',
    graceMs: 5000,
    drainDelayMs: 0,
    allowNested: false,
    pidNamespace: false,
    parentDeathSignal: null,
    compat: 'none',
    stopWithChild: false,
    termGroupOnExit: false,
  };
}

/** The variable that sets the drain delay when --drain-delay is absent (and in the compat modes). */
export const DRAIN_DELAY_VAR = 'PIDONE_DRAIN_DELAY';

/**
 * A user's value as an error message shows it: control characters escaped so the
 * message stays one line, and very long values cut.
 */
export function shown(value: string): string {
  const escaped = value.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return escaped.length > 80 ? `${escaped.slice(0, 60)}... (${value.length} characters)` : escaped;
}

/**
 * The drain delay PIDONE_DRAIN_DELAY asks for, in ms: 0 when it is unset or empty.
 * Here rather than in src/config.ts because the compat modes read it too, without
 * loading the command-line parser.
 */
export function drainDelayFromEnv(env: NodeJS.ProcessEnv): number {
  const text = env[DRAIN_DELAY_VAR];
  if (text === undefined || text === '') return 0;
  const ms = parseDuration(text);
  if (ms === null) throw new ConfigError(`pidone: ${DRAIN_DELAY_VAR}: '${shown(text)}' is not a duration; accepted: ${ACCEPTED_DURATION_FORMS}`);
  return ms;
}
