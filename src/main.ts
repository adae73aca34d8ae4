/**
 * pidone's command line: parse, check, build the init, run it, exit with its code.
 * No policy here (that is src/init.ts).
 *
 * The common `pidone -- cmd` (or `pidone cmd`) takes a fast path: it runs with the
 * default configuration and never loads the command-line parser (yargs costs about as
 * much as Node's own start-up). Everything else goes through src/config.ts.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ConfigError, defaultConfig, type Config } from './config-defaults.js';
import { EXIT_INTERNAL, EXIT_SETUP, EXIT_USAGE } from './exit-status.js';
import type { ParseResult } from './config.js';
import { Init, type InitOptions, type NamespaceInit } from './init.js';
import { executableCandidates, type LinuxKernel } from './kernel/linux/linux-kernel.js';
import { loadAddon, packageRoot } from './kernel/linux/loader.js';
import { createLogger, writeFd, writeStderr, type LineFormat, type Logger } from './logger.js';
import { childEnvironment, decodeEntries, exactArguments, stringToBytes } from './environment.js';
import type { LaunchInfo } from './boot.js';

export function version(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * True when `command` resolves to this very pidone (its launcher script). Paths are
 * compared as bytes (src/environment.ts): the command may not be UTF-8.
 */
export function isPidoneItself(command: string, env: readonly string[]): boolean {
  const self = [join(packageRoot(), 'bin', 'pidone'), process.argv[1]].flatMap((p) => {
    try {
      return p ? [realpathSync(p, { encoding: 'buffer' })] : [];
    } catch {
      return [];
    }
  });
  for (const candidate of executableCandidates(command, env)) {
    try {
      const path = stringToBytes(candidate);
      if (!statSync(path).isFile()) continue;
      const real = realpathSync(path, { encoding: 'buffer' });
      return self.some((s) => s.equals(real));
    } catch {
      continue;
    }
  }
  return false;
}

/**
 * pidone's arguments and environment as the bytes it was given, not as Node decoded
 * them (src/environment.ts says how bytes travel in strings): the command, its
 * arguments and the child's environment reach the child unchanged, and reading the
 * environment is one pass over environ(7). Without the addon, what Node decoded.
 */
function processArgsAndEnvironment(argv: readonly string[], kernel: LinuxKernel | Error): { argv: string[]; env: string[] } {
  if (kernel instanceof Error) return { argv: [...argv], env: [] };
  const addon = loadAddon();
  return { argv: exactArguments(argv, decodeEntries(addon.argv())), env: decodeEntries(addon.environ()) };
}

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
  // PIDONE_DRAIN_DELAY changes the configuration, and the parser checks its value.
  if (env['PIDONE_DRAIN_DELAY'] !== undefined && env['PIDONE_DRAIN_DELAY'] !== '') return null;
  const command = argv[0] === '--' ? argv.slice(1) : [...argv];
  const first = command[0];
  if (first === undefined || first === '') return null;
  // Without `--`, a leading '-' is an option for the parser.
  if (argv[0] !== '--' && first.startsWith('-')) return null;
  return command;
}

/**
 * Parse a command line that needs the parser: pidone's own, or tini's or dumb-init's
 * (--compat, PIDONE_COMPAT, or a link named after the tool; docs/compat.md). Prints
 * help, versions and errors, and exits, as asked.
 */
async function parseCommandLine(
  argv: readonly string[],
): Promise<{ config: Config; compat: CompatReporter | null; lineFormat?: LineFormat | undefined }> {
  try {
    const { selectCompat, parseCompatArgs, execFailureReport, compatLineFormat } = await import('./compat/index.js');
    const self = process.argv[1] ?? 'pidone';
    const selection = selectCompat(self, process.env, argv);
    let parsed: ParseResult;
    if (selection.mode === 'none') {
      parsed = (await import('./config.js')).parseArgs(selection.argv);
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
    if (error instanceof ConfigError) {
      writeStderr(`${error.message}\n`);
      exit(error.exitCode);
    }
    throw error;
  }
}

/** How a compat mode reports a command it cannot run. */
type CompatReporter = NonNullable<InitOptions['execFailure']>;

export async function main(
  nodeArgv: readonly string[],
  kernel: LinuxKernel | Error,
  initialPpid: number,
  launch: LaunchInfo = {},
): Promise<never> {
  const exact = processArgsAndEnvironment(nodeArgv, kernel);
  const argv = exact.argv;
  const fast = fastPathCommand(argv);
  let { config, compat, lineFormat } = fast ? { config: defaultConfig(fast), compat: null, lineFormat: undefined } : await parseCommandLine(argv);
  if (kernel instanceof Error) {
    writeStderr(`${kernel.message}\n`);
    exit(EXIT_SETUP);
  }
  const env = childEnvironment(exact.env);
  let namespaceInit: NamespaceInit | undefined;
  if (config.pidNamespace) {
    ({ config, namespaceInit } = pidNamespaceOuter(argv, config, env));
  } else if (!config.allowNested && isPidoneItself(config.command[0]!, env)) {
    writeStderr(
      `pidone: refusing to run pidone as its own child ('${config.command[0]}' is this pidone); pass --allow-nested if that is what you want\n`,
    );
    exit(EXIT_USAGE);
  }

  const logger = createLogger({ verbosity: config.verbosity, format: config.logFormat, pid: process.pid, lineFormat });
  if (launch.codeCache !== undefined) logger.debug({ codeCache: launch.codeCache }, 'launched');
  const init = new Init(kernel, config, logger, {
    env,
    reportError: (line) => writeStderr(`${line}\n`),
    initialPpid,
    ...(namespaceInit ? { namespaceInit } : {}),
    ...(compat ? { execFailure: compat } : {}),
  });
  installLastResort(logger, init, config.graceMs);
  injectFault(process.env['PIDONE_FAULT']);
  const code = await init.run();
  exit(code);
}

/**
 * --pid-ns: this pidone stays outside and starts a second pidone, the same command line
 * without --pid-ns, as PID 1 of a new PID namespace; the command itself is forked in
 * there first, so it is the namespace's pid 2, and the inner pidone adopts it. The
 * outer pidone forwards signals to the inner one only and exits with its code; when
 * the inner one exits, the kernel kills everything left in the namespace
 * (pid_namespaces(7)), so nothing escapes.
 */
export function pidNamespaceOuter(
  argv: readonly string[],
  config: Config,
  env: string[],
): { config: Config; namespaceInit: NamespaceInit } {
  const options = withoutParentDeathSignal(argv.slice(0, argv.length - config.command.length).filter((a) => a !== '--pid-ns'));
  if (options[options.length - 1] !== '--') options.push('--');
  const launcher = join(packageRoot(), 'bin', 'pidone');
  return {
    config: {
      ...config,
      singleChild: true,
      remaining: 'kill',
      rewrite: new Map(),
      remapExit: new Map(),
      // The inner pidone holds the first SIGTERM; the outer one passes it on at once.
      drainDelayMs: 0,
    },
    namespaceInit: {
      command: [launcher, ...options, ...config.command],
      // The inner launcher runs the same Node as this one.
      env: [...env.filter((e) => !e.startsWith('PIDONE_NODE=')), `PIDONE_NODE=${process.execPath}`],
    },
  };
}

/**
 * pidone's options without --pdeathsig: that flag is for the outer pidone (whose parent
 * it watches; it forwards the signal inward like any other). The inner one is tied to
 * the outer by PR_SET_PDEATHSIG(SIGKILL), set before it exec'd (native/namespaces.h),
 * and a --pdeathsig of its own would replace that SIGKILL.
 */
function withoutParentDeathSignal(options: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < options.length; i++) {
    const option = options[i]!;
    if (option === '--') {
      out.push(...options.slice(i));
      break;
    }
    if (option === '--pdeathsig') i++;
    else if (!option.startsWith('--pdeathsig=')) out.push(option);
  }
  return out;
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
