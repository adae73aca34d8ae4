/**
 * pidone as a library: `import { runInit } from 'pidone'`.
 *
 * `runInit()` does what the `pidone` command does (src/main.ts) from your own Node
 * entry point: it builds the kernel (the real one over the native addon, unless you
 * pass another, such as the simulator's from `pidone/sim`), runs the command under
 * pidone's init policy (src/init.ts) and resolves with the exit code pidone would
 * exit with. It never calls `process.exit()`: that is yours to do.
 *
 * Read this before using it in a process that does other work:
 * - Creating the Linux kernel installs handlers for every catchable signal in the
 *   whole process (that is how an init must work); your own `process.on('SIGTERM')`
 *   listeners stop firing from then on.
 * - The init reaps every child of the process with `waitpid(-1)`: do not use
 *   `child_process` in the same process while `runInit()` runs (the two steal each
 *   other's exit statuses).
 * - The signal handlers stay installed after the promise resolves: exit with the code.
 * So: give the init its own process, whose whole job is `process.exit(await runInit(...))`.
 * Example: examples/library/.
 */
import { checkOverrides, ConfigError, type Config } from './config-defaults.js';
import { parseArgs } from './config.js';
import { childEnvironment } from './environment.js';
import type { Kernel } from './kernel/kernel.js';
import { writeStderr, type Logger } from './logger.js';
import { childEnvironmentOfProcess, createLinuxKernel, startInit } from './startup.js';

/** What every form of runInit() accepts besides the command and its settings. */
export interface RunInitCommon {
  /**
   * The child's environment: an object like `process.env`, or `NAME=value` strings.
   * Default: the process's own environment, exactly as environ(7) holds it (bytes
   * that are not UTF-8, duplicate names and entries without '=' included), less the
   * variables pidone's launcher sets for itself.
   */
  readonly env?: NodeJS.ProcessEnv | readonly string[];
  /**
   * The kernel to run on. Default: a LinuxKernel over the native addon (which throws
   * NativeLoadError, naming every path tried and the fixes, when the addon is missing).
   * Pass `new SimKernel(...)` from 'pidone/sim' to run the same policy on the simulator.
   */
  readonly kernel?: Kernel;
  /** Where pidone logs. Default: pino JSON lines on stderr, per `verbosity` and `logFormat`. */
  readonly logger?: Logger;
  /**
   * User-facing error lines, such as "pidone: cannot run 'x': No such file or
   * directory". Default: written to stderr, as the CLI does.
   */
  readonly reportError?: (line: string) => void;
}

/** `runInit({ command: ['node', 'server.js'], graceMs: 10_000 })`: a Config, every field but `command` optional. */
export type RunInitWithConfig = RunInitCommon &
  Partial<Omit<Config, 'command'>> & {
    /** The command and its arguments; command[0] is looked up in PATH like a shell does. */
    readonly command: readonly string[];
    readonly args?: undefined;
  };

/** `runInit({ args: ['--grace', '10s', '--', 'node', 'server.js'] })`: the CLI's own arguments. */
export type RunInitWithArgs = RunInitCommon & {
  /** pidone's command line, without `pidone` itself: flags, `--`, the command. */
  readonly args: readonly string[];
  readonly command?: undefined;
};

export type RunInitOptions = RunInitWithConfig | RunInitWithArgs;

const COMMON_KEYS = new Set(['env', 'kernel', 'logger', 'reportError', 'args', 'command']);

/**
 * The Config that `options` asks for; throws ConfigError (exitCode 2) when it is not
 * valid, with the line the command line gives for the same mistake: each setting is
 * checked by its entry in the table of settings (src/config-defaults.ts), and named
 * by its flag (`graceMs` as `--grace`). pidone's variables (PIDONE_GRACE...) are not
 * read: a library's settings come from its caller.
 */
export function resolveConfig(options: RunInitOptions): Config {
  if (options.args !== undefined) {
    for (const [key, value] of Object.entries(options)) {
      if (!COMMON_KEYS.has(key) && value !== undefined) {
        throw new ConfigError(`pidone: runInit(): '${key}' cannot be given with args; put its flag in args`);
      }
    }
    const parsed = parseArgs(options.args);
    if (parsed.kind !== 'run') {
      throw new ConfigError(`pidone: runInit() needs a command to run; args asked for '${parsed.kind}'`);
    }
    return parsed.config;
  }
  const { command } = options;
  if (!Array.isArray(command) || command.length === 0 || command.some((a) => typeof a !== 'string')) {
    throw new ConfigError('pidone: runInit() needs `command`, a non-empty array of strings (or `args`)');
  }
  if (command[0] === '') throw new ConfigError('pidone: the command is an empty string');
  const overrides: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (!COMMON_KEYS.has(key)) overrides[key] = value;
  }
  const config = checkOverrides([...command], overrides);
  if (config.pidNamespace) {
    throw new ConfigError("pidone: runInit(): pidNamespace needs the args form, e.g. { args: ['--pid-ns', '--', ...command] }");
  }
  return config;
}

function environment(env: RunInitCommon['env']): string[] {
  if (env === undefined || env === process.env) return childEnvironmentOfProcess();
  if (Array.isArray(env)) return [...(env as readonly string[])];
  return childEnvironment(env as NodeJS.ProcessEnv);
}

/**
 * Run a command under pidone: spawn it, forward signals to it, reap every zombie,
 * deal with what remains when it exits (`remaining`, `graceMs`), and resolve with
 * the exit code: the child's, 128+n if signal n killed it, 126/127 if it could not be
 * run, 1 if pidone could not set itself up. A bad option rejects with ConfigError
 * (its `exitCode` is 2) before anything is spawned or any signal handler installed;
 * a missing addon throws NativeLoadError.
 *
 * The calling process becomes the init, as the command line's pidone does: once the
 * child runs, its working directory is `/` (the child starts where the caller was) and
 * its oom_score_adj is lowered as far as it may go (the child keeps the caller's);
 * docs/usage.md, "The working directory" and "The OOM killer".
 */
export async function runInit(options: RunInitOptions): Promise<number> {
  // Validate first, so that a bad option leaves the process as it was; then the
  // kernel, whose creation installs the signal handlers, right before the spawn.
  const config = resolveConfig(options);
  const { init } = await startInit({
    kernel: options.kernel ?? (() => createLinuxKernel()),
    onLinux: options.kernel === undefined,
    config,
    argv: options.args ?? [],
    env: environment(options.env),
    reportError: options.reportError ?? ((line) => writeStderr(`${line}\n`)),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return init.run();
}

export { ConfigError, defaultConfig, helpText, parseArgs, OPTIONS } from './config.js';
export { SETTINGS, type Setting, type SettingKey } from './config-defaults.js';
export type { CompatMode, Config, LogFormat, ParseResult, RemainingPolicy } from './config.js';
export { Init, SetupError, type InitOptions } from './init.js';
export {
  KernelError,
  NamespaceRefusedError,
  strerror,
  type Errno,
  type Kernel,
  type ProcessIdentity,
  type ReapResult,
  type ReceivedSignal,
  type Spawned,
  type SpawnRequest,
  type Timer,
  type WaitStatus,
} from './kernel/kernel.js';
export { LinuxKernel, type LinuxKernelOptions } from './kernel/linux/linux-kernel.js';
export { loadAddon, candidatePaths, NativeLoadError } from './kernel/linux/loader.js';
export { createLogger, type Logger, type LoggerOptions } from './logger.js';
export {
  EXIT_INTERNAL,
  EXIT_NOT_EXECUTABLE,
  EXIT_NOT_FOUND,
  EXIT_SETUP,
  EXIT_USAGE,
  exitCodeOf,
  remapExitCode,
  type RemapTable,
} from './exit-status.js';
export { parseSignal, signalName, signalNumber, type SignalName } from './signals.js';
export type { RewriteTable } from './signal-policy.js';
export { version } from './startup.js';
