/**
 * Start-up, shared by the command line (src/main.ts, from src/boot.ts) and the library
 * (src/index.ts): the kernel, pidone's arguments and environment as bytes, the refusal
 * to run pidone under itself, --pid-ns's outer pidone, and the Init. Each caller
 * decides only what is its own: where errors go, and how it exits.
 *
 * Light on purpose: boot.ts imports it to create the kernel before anything else is
 * loaded, so the policy (src/init.ts) and the logger are loaded only when startInit()
 * runs.
 */
import { accessSync, constants, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, settingEntries, type Config } from './config-defaults.js';
import { childEnvironment, decodeEntries, exactArguments, stringToBytes } from './environment.js';
import type { Init, InitOptions, NamespaceInit } from './init.js';
import type { Kernel } from './kernel/kernel.js';
import { executableCandidates, LinuxKernel } from './kernel/linux/linux-kernel.js';
import { loadAddon, packageRoot } from './kernel/linux/loader.js';
import type { LineFormat, Logger } from './logger.js';

/** pidone's version, from its package.json. */
export function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * The Linux kernel over the native addon (which throws NativeLoadError, naming every
 * path tried and the fixes, when it is missing). Creating it installs the handlers for
 * every catchable signal. `preforked` is PIDONE_PREFORKED, which only the command
 * line's pidone heeds: --pid-ns sets it for the inner pidone's launcher.
 */
export function createLinuxKernel(options: { readonly preforked?: string | undefined } = {}): LinuxKernel {
  return new LinuxKernel(loadAddon(), {
    launcherFds: process.env['PIDONE_LAUNCHER_FDS'],
    ...(options.preforked !== undefined ? { preforked: options.preforked } : {}),
  });
}

/**
 * The process's environment as environ(7) holds it, as bytes (src/environment.ts):
 * every entry in order, read in one pass. Without the addon (a SimKernel where none is
 * built, or an addon that failed to load), what `process.env` holds.
 */
export function processEnvironment(): NodeJS.ProcessEnv | string[] {
  try {
    return decodeEntries(loadAddon().environ());
  } catch {
    return process.env;
  }
}

/**
 * pidone's arguments (`argv`, as Node decoded them) as the bytes it was given
 * (src/environment.ts says how bytes travel in strings), so the command and its
 * arguments reach the child unchanged. Without the addon, what Node decoded.
 */
export function processArguments(argv: readonly string[]): string[] {
  try {
    return exactArguments(argv, decodeEntries(loadAddon().argv()));
  } catch {
    return [...argv];
  }
}

/** The child's environment: pidone's own (processEnvironment()) less its launcher's variables. */
export function childEnvironmentOfProcess(): string[] {
  return childEnvironment(processEnvironment());
}

/**
 * The launchers of this package, the native one first: in a source checkout node-gyp
 * builds it at build/Release/pidone next to the sh launcher bin/pidone; in an installed
 * package or an image it has taken bin/pidone's place (scripts/install.js,
 * scripts/stage-image.js), and the sh launcher is bin/pidone.sh.
 */
function launcherPaths(): string[] {
  const root = packageRoot();
  return [join(root, 'build', 'Release', 'pidone'), join(root, 'bin', 'pidone'), join(root, 'bin', 'pidone.sh')];
}

/**
 * True when `command` resolves to this very pidone (its launcher script). Paths are
 * compared as bytes (src/environment.ts): the command may not be UTF-8.
 */
export function isPidoneItself(command: string, env: readonly string[]): boolean {
  // argv[1] is the launcher as it was typed: a bare name (`tini` found through PATH)
  // says nothing of where it is, and resolved against the cwd it could name another file.
  const typed = process.argv[1]?.includes('/') ? [process.argv[1]] : [];
  const self = [...launcherPaths(), ...typed].flatMap((p) => {
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
 * --pid-ns: this pidone stays outside and starts a second pidone, the same command line
 * less the flags that are the outer one's alone (a setting's `outerOnly`), as PID 1 of
 * a new PID namespace; the command itself is forked in there first, so it is the
 * namespace's pid 2, and the inner pidone adopts it. The outer pidone forwards signals
 * to the inner one only (the settings' `outsidePidNamespace` values) and exits with its
 * code; when the inner one exits, the kernel kills everything left in the namespace
 * (pid_namespaces(7)), so nothing escapes.
 */
export function pidNamespaceOuter(
  argv: readonly string[],
  config: Config,
  env: readonly string[],
): { config: Config; namespaceInit: NamespaceInit } {
  const options = withoutOuterOnlyFlags(argv.slice(0, argv.length - config.command.length));
  if (options[options.length - 1] !== '--') options.push('--');
  const outer: Record<string, unknown> = { ...config };
  for (const [key, setting] of settingEntries()) {
    if (setting.outsidePidNamespace !== undefined) outer[key] = setting.outsidePidNamespace();
  }
  const launcher = launcherPaths().find((p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  })!;
  return {
    config: outer as unknown as Config,
    namespaceInit: {
      command: [launcher, ...options, ...config.command],
      // The inner launcher runs the same Node as this one.
      env: [...env.filter((e) => !e.startsWith('PIDONE_NODE=')), `PIDONE_NODE=${process.execPath}`],
    },
  };
}

/** pidone's options (up to `--`) without the flags of settings marked `outerOnly`. */
function withoutOuterOnlyFlags(options: readonly string[]): string[] {
  const dropped = settingEntries().flatMap(([, setting]) => (setting.outerOnly && setting.flag ? [setting.flag] : []));
  const out: string[] = [];
  for (let i = 0; i < options.length; i++) {
    const option = options[i]!;
    if (option === '--') {
      out.push(...options.slice(i));
      break;
    }
    const flag = dropped.find(
      (f) => option === `--${f.name}` || option.startsWith(`--${f.name}=`) || (f.kind === 'switch' && option === `--no-${f.name}`),
    );
    if (flag === undefined) out.push(option);
    else if (option === `--${flag.name}` && flag.kind !== 'switch' && flag.kind !== 'count') i++;
  }
  return out;
}

/** What startInit() needs besides the configuration. */
export interface StartRequest {
  /** The kernel, or how to create it: created only once the configuration is accepted. */
  readonly kernel: Kernel | (() => Kernel);
  /** True when the kernel is the real one (LinuxKernel): --pid-ns and the nested check need it. */
  readonly onLinux: boolean;
  readonly config: Config;
  /** pidone's own command line, for --pid-ns (which gives it to the inner pidone). */
  readonly argv: readonly string[];
  /** The child's environment. */
  readonly env: readonly string[];
  /** User-facing error lines. */
  readonly reportError: (line: string) => void;
  /** The parent pidone started with; default the kernel's getppid() now. */
  readonly initialPpid?: number;
  /** Default: pino on stderr, per the configuration. */
  readonly logger?: Logger;
  /** A compat mode's log lines (src/compat/log-format.ts). */
  readonly lineFormat?: LineFormat | undefined;
  /** A compat mode's report of a command that cannot be run. */
  readonly execFailure?: InitOptions['execFailure'];
}

/**
 * The Init for a configuration, ready to run(): --pid-ns turned into the outer pidone's
 * configuration and the inner one's command line; pidone as its own child refused
 * (ConfigError, before the kernel is created when the caller passed a function);
 * the logger and the Init built.
 */
export async function startInit(request: StartRequest): Promise<{ init: Init; config: Config; logger: Logger }> {
  let config = request.config;
  let namespaceInit: NamespaceInit | undefined;
  if (config.pidNamespace) {
    if (!request.onLinux) throw new ConfigError('pidone: --pid-ns runs only on the Linux kernel');
    ({ config, namespaceInit } = pidNamespaceOuter(request.argv, config, request.env));
  } else if (request.onLinux && !config.allowNested && isPidoneItself(config.command[0]!, request.env)) {
    throw new ConfigError(
      `pidone: refusing to run pidone as its own child ('${config.command[0]}' is this pidone); pass --allow-nested if that is what you want`,
    );
  }
  const kernel = typeof request.kernel === 'function' ? request.kernel() : request.kernel;
  // Loaded here, not at the top: boot.ts loads this module before the signal handlers are in.
  const [{ Init }, { createLogger }] = await Promise.all([import('./init.js'), import('./logger.js')]);
  const logger =
    request.logger ??
    createLogger({ verbosity: config.verbosity, format: config.logFormat, pid: kernel.self().pid, lineFormat: request.lineFormat });
  const init = new Init(kernel, config, logger, {
    env: request.env,
    reportError: request.reportError,
    initialPpid: request.initialPpid ?? kernel.self().ppid,
    ...(namespaceInit ? { namespaceInit } : {}),
    ...(request.execFailure ? { execFailure: request.execFailure } : {}),
  });
  return { init, config, logger };
}
