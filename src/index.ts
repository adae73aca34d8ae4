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
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, defaultConfig, parseArgs, type Config } from './config.js';
import { childEnvironment, decodeEntries } from './environment.js';
import { Init, type NamespaceInit } from './init.js';
import type { Kernel } from './kernel/kernel.js';
import { LinuxKernel } from './kernel/linux/linux-kernel.js';
import { loadAddon, packageRoot } from './kernel/linux/loader.js';
import { createLogger, writeStderr, type Logger } from './logger.js';
import { isPidoneItself, pidNamespaceOuter } from './main.js';

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

/** The Config that `options` asks for; throws ConfigError (exitCode 2) when it is not valid. */
export function resolveConfig(options: RunInitOptions): Config {
  if (options.args !== undefined) {
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
    if (!COMMON_KEYS.has(key) && value !== undefined) overrides[key] = value;
  }
  const config = { ...defaultConfig([...command]), ...overrides } as Config;
  if (config.pidNamespace) {
    throw new ConfigError("pidone: runInit(): pidNamespace needs the args form, e.g. { args: ['--pid-ns', '--', ...command] }");
  }
  return config;
}

function environment(env: RunInitCommon['env']): string[] {
  if (env === undefined || env === process.env) return childEnvironment(processEnvironment());
  if (Array.isArray(env)) return [...(env as readonly string[])];
  return childEnvironment(env as NodeJS.ProcessEnv);
}

/**
 * The process's environment as environ(7) holds it, as bytes (src/environment.ts):
 * every entry in order, read in one pass. Without the addon (a SimKernel where none is
 * built), what `process.env` holds.
 */
function processEnvironment(): NodeJS.ProcessEnv | string[] {
  try {
    return decodeEntries(loadAddon().environ());
  } catch {
    return process.env;
  }
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
  let config = resolveConfig(options);
  const env = environment(options.env);
  const kernel = options.kernel ?? new LinuxKernel(loadAddon(), { launcherFds: process.env['PIDONE_LAUNCHER_FDS'] });
  const initialPpid = kernel.self().ppid;
  let namespaceInit: NamespaceInit | undefined;
  if (config.pidNamespace) {
    if (options.kernel !== undefined) throw new ConfigError('pidone: runInit(): pidNamespace runs only on the Linux kernel');
    ({ config, namespaceInit } = pidNamespaceOuter(options.args ?? [], config, env));
  } else if (options.kernel === undefined && !config.allowNested && isPidoneItself(config.command[0]!, env)) {
    throw new ConfigError(
      `pidone: refusing to run pidone as its own child ('${config.command[0]}' is this pidone); set allowNested if that is what you want`,
    );
  }
  const logger =
    options.logger ?? createLogger({ verbosity: config.verbosity, format: config.logFormat, pid: kernel.self().pid });
  const init = new Init(kernel, config, logger, {
    env,
    reportError: options.reportError ?? ((line) => writeStderr(`${line}\n`)),
    initialPpid,
    ...(namespaceInit ? { namespaceInit } : {}),
  });
  return init.run();
}

export { ConfigError, defaultConfig, helpText, parseArgs, OPTIONS } from './config.js';
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

/** pidone's version, from its package.json. */
export function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
