/**
 * pidone's command line: read the configuration, have src/startup.ts build the init,
 * run it, exit with its code. No policy here (that is src/init.ts).
 *
 * The common `pidone -- cmd` (or `pidone cmd`) takes a fast path: it runs with the
 * defaults and the settings' variables (baseConfig(), src/config-defaults.ts) and never
 * loads the command-line parser (yargs costs about as much as Node's own start-up).
 * Everything else goes through src/config.ts, or a compat mode's parser.
 */
import { basename } from 'node:path';
import { baseConfig, ConfigError, type Config } from './config-defaults.js';
import { EXIT_INTERNAL, EXIT_SETUP } from './exit-status.js';
import type { ParseResult } from './config.js';
import type { Init, InitOptions } from './init.js';
import type { LinuxKernel } from './kernel/linux/linux-kernel.js';
import { loadAddon } from './kernel/linux/loader.js';
import { writeFd, writeStderr, type LineFormat, type Logger } from './logger.js';
import { childEnvironment } from './environment.js';
import type { LaunchInfo } from './boot.js';
import { processArguments, processEnvironment, startInit, version } from './startup.js';

function exit(code: number): never {
  process.exit(code);
}

/**
 * The command of `pidone -- cmd...` or `pidone cmd...` with no option, run as pidone
 * (not through a tini or dumb-init link, no PIDONE_COMPAT): null for anything that
 * needs the parser.
 */
export function fastPathCommand(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  self: string | undefined = process.argv[1],
): string[] | null {
  if (self === undefined || basename(self) !== 'pidone') return null;
  if (env['PIDONE_COMPAT'] !== undefined && env['PIDONE_COMPAT'] !== 'none') return null;
  const command = argv[0] === '--' ? argv.slice(1) : [...argv];
  const first = command[0];
  if (first === undefined || first === '') return null;
  // Without `--`, a leading '-' is an option for the parser.
  if (argv[0] !== '--' && first.startsWith('-')) return null;
  return command;
}

/**
 * The configuration the command line asks for: the fast path's (defaults and the
 * settings' variables, without the parser), or the parser's: pidone's own, or tini's
 * or dumb-init's (--compat, PIDONE_COMPAT, or a link named after the tool;
 * docs/compat.md). Prints help, versions and errors, and exits, as asked.
 */
async function readConfig(
  argv: readonly string[],
): Promise<{ config: Config; compat: CompatReporter | null; lineFormat?: LineFormat | undefined }> {
  try {
    const fast = fastPathCommand(argv);
    if (fast) return { config: baseConfig(fast, process.env), compat: null };
    const { selectCompat, parseCompatArgs, execFailureReport, compatLineFormat } = await import('./compat/index.js');
    const self = process.argv[1] ?? 'pidone';
    const selection = selectCompat(self, process.env, argv);
    let parsed: ParseResult;
    if (selection.mode === 'none') {
      parsed = (await import('./config.js')).parseArgs(selection.argv, process.env);
    } else {
      // The name as invoked, as the tools print their argv[0].
      const programName = selection.source === 'argv0' ? self : selection.mode;
      parsed = parseCompatArgs(selection.mode, selection.argv, process.env, version(), { programName });
    }
    if (parsed.kind === 'help') {
      writeFd(1, (await import('./config.js')).helpText());
      exit(0);
    }
    if (parsed.kind === 'version') {
      writeFd(1, `pidone ${version()}\n`);
      exit(0);
    }
    if (parsed.kind === 'print') {
      writeFd(parsed.stream === 'stderr' ? 2 : 1, parsed.text);
      exit(0);
    }
    const mode = parsed.config.compat;
    return {
      config: parsed.config,
      compat: mode === 'none' ? null : (file, code) => execFailureReport(mode, file, code, process.pid),
      // A compat mode speaks its tool's log lines unless PIDONE_LOG_FORMAT asks for pidone's.
      lineFormat: parsed.config.logFormat === undefined ? compatLineFormat(parsed.config, process.env, process.pid) : undefined,
    };
  } catch (error) {
    exitOnConfigError(error);
  }
}

/** A ConfigError: its line on stderr, and its exit code (2, or a compat mode's). */
function exitOnConfigError(error: unknown): never {
  if (error instanceof ConfigError) {
    writeStderr(`${error.message}\n`);
    exit(error.exitCode);
  }
  throw error;
}

/** How a compat mode reports a command it cannot run. */
type CompatReporter = NonNullable<InitOptions['execFailure']>;

export async function main(
  nodeArgv: readonly string[],
  kernel: LinuxKernel | Error,
  initialPpid: number,
  launch: LaunchInfo = {},
): Promise<never> {
  const argv = processArguments(nodeArgv);
  const { config, compat, lineFormat } = await readConfig(argv);
  if (kernel instanceof Error) {
    writeStderr(`${kernel.message}\n`);
    exit(EXIT_SETUP);
  }
  let started: Awaited<ReturnType<typeof startInit>>;
  try {
    started = await startInit({
      kernel,
      onLinux: true,
      config,
      argv,
      env: childEnvironment(processEnvironment()),
      reportError: (line) => writeStderr(`${line}\n`),
      initialPpid,
      lineFormat,
      ...(compat ? { execFailure: compat } : {}),
    });
  } catch (error) {
    exitOnConfigError(error);
  }
  const { init, logger } = started;
  if (launch.codeCache !== undefined) logger.debug({ codeCache: launch.codeCache }, 'launched');
  installLastResort(logger, init, started.config.graceMs);
  injectFault(process.env['PIDONE_FAULT']);
  const code = await init.run();
  exit(code);
}

/**
 * An exception that escaped everything else is a pidone bug. Log it, end the child and
 * everything else the way --remaining kill does, and exit EXIT_INTERNAL (125), rather
 * than die by Node's default (exit 1 after a stack trace, which looks like a child's
 * exit) or hang. A hard deadline backs it up: if even that cannot finish, exit anyway.
 */
function installLastResort(logger: Logger, init: Init, graceMs: number): void {
  const die = (kind: string) => (error: unknown) => {
    try {
      logger.fatal({ err: error instanceof Error ? error.stack : String(error) }, `${kind} in pidone; shutting down`);
    } catch {
      // The logger itself failed: carry on with the shutdown.
    }
    setTimeout(() => exit(EXIT_INTERNAL), graceMs + 5000);
    try {
      init.abort(EXIT_INTERNAL);
    } catch {
      exit(EXIT_INTERNAL);
    }
  };
  process.on('uncaughtException', die('uncaught exception'));
  process.on('unhandledRejection', die('unhandled promise rejection'));
}

/**
 * PIDONE_FAULT: make pidone fail on purpose once it runs, to test the handling above
 * ('uncaught-exception' or 'unhandled-rejection'), or to check that a real crash stays
 * one ('segv': a write through a null pointer in the addon; 'abort': abort(3)). For
 * pidone's own tests.
 */
function injectFault(fault: string | undefined): void {
  if (fault === 'segv') {
    setTimeout(() => loadAddon().dereferenceNull(), 200);
  } else if (fault === 'abort') {
    setTimeout(() => process.abort(), 200);
  } else if (fault === 'uncaught-exception') {
    setTimeout(() => {
      throw new Error('injected by PIDONE_FAULT=uncaught-exception');
    }, 200);
  } else if (fault === 'unhandled-rejection') {
    setTimeout(() => void Promise.reject(new Error('injected by PIDONE_FAULT=unhandled-rejection')), 200);
  }
}
