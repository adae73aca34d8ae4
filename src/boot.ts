/**
 * The first code pidone runs. It loads only what is needed to own every catchable
 * signal (the addon and the signal table), installs the handlers, and only then loads
 * the rest. Until the handlers are in, Node's defaults apply: SIGUSR1 would open the
 * inspector on 127.0.0.1:9229, and SIGTERM, re-raised by Node, would be dropped by the
 * kernel for a PID 1 (NODE-PID1-NOTES.md).
 *
 * The common command line, `pidone -- cmd args...` (or `pidone cmd args...`, no flag),
 * takes a fast path: the child is spawned here, before the command-line parser, the
 * logger and the policy are loaded (they cost more than Node's own start-up; see
 * docs/performance.md), and handed to the policy when it asks for its spawn. Anything
 * else, or any doubt, takes the ordinary path, where src/init.ts spawns.
 */
import { realpathSync, statSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { KernelError, type SpawnRequest, type Spawned } from './kernel/kernel.js';
import { executableCandidates, LinuxKernel } from './kernel/linux/linux-kernel.js';
import { loadAddon } from './kernel/linux/loader.js';
import { childEnvironment } from './environment.js';

export async function boot(argv: readonly string[]): Promise<never> {
  // Read before anything else: --pdeathsig compares it with getppid() later.
  const initialPpid = process.ppid;
  let kernel: EarlySpawnKernel | Error;
  try {
    kernel = new EarlySpawnKernel(loadAddon(), {
      launcherFds: process.env['PIDONE_LAUNCHER_FDS'],
      preforked: process.env['PIDONE_PREFORKED'],
    });
  } catch (error) {
    kernel = error instanceof Error ? error : new Error(String(error));
  }
  if (!(kernel instanceof Error)) {
    const command = fastPathCommand(argv, process.argv[1], process.env);
    if (command !== null) kernel.spawnEarly(command);
  }
  const { main } = await import('./main.js');
  return main(argv, kernel, initialPpid);
}

/**
 * The command of `pidone -- cmd...`, or of `pidone cmd...` with no flag, when pidone
 * runs under its own name in its own mode; null for anything that needs the parser.
 * Conservative on purpose: a link named otherwise (tini, docker-init, dumb-init, ...)
 * or PIDONE_COMPAT may select another tool's command line, so they take the ordinary path.
 */
export function fastPathCommand(argv: readonly string[], self: string | undefined, env: NodeJS.ProcessEnv): string[] | null {
  if (self === undefined || basename(self) !== 'pidone') return null;
  const compat = env['PIDONE_COMPAT'];
  if (compat !== undefined && compat !== '' && compat !== 'none') return null;
  const command = argv[0] === '--' ? argv.slice(1) : [...argv];
  const first = command[0];
  if (first === undefined || first === '') return null;
  // Without `--`, a leading '-' is a flag for the parser.
  if (argv[0] !== '--' && first.startsWith('-')) return null;
  return command;
}

/**
 * True unless the command surely is not this pidone: the fast path never runs pidone
 * as its own child; the ordinary path refuses it (or allows it with --allow-nested).
 */
function mightBePidone(file: string, env: readonly string[]): boolean {
  try {
    const self = new Set<string>();
    for (const p of [new URL('../bin/pidone', import.meta.url).pathname, process.argv[1]]) {
      try {
        if (p) self.add(realpathSync(p));
      } catch {
        // Not there: cannot be it.
      }
    }
    for (const candidate of executableCandidates(file, env)) {
      try {
        if (!statSync(candidate).isFile()) continue;
      } catch {
        continue;
      }
      return self.has(realpathSync(candidate));
    }
    return false;
  } catch {
    return true;
  }
}

function sameRequest(a: SpawnRequest, b: SpawnRequest): boolean {
  const list = (x: readonly (string | number)[], y: readonly (string | number)[]) =>
    x.length === y.length && x.every((v, i) => v === y[i]);
  return (
    a.file === b.file &&
    a.setsid === b.setsid &&
    a.foregroundTty === b.foregroundTty &&
    a.envPidVar === b.envPidVar &&
    a.namespaces === undefined &&
    b.namespaces === undefined &&
    list(a.args, b.args) &&
    list(a.env, b.env) &&
    list(a.inheritFds, b.inheritFds)
  );
}

/**
 * A LinuxKernel that may have spawned the child already: the policy's first spawn()
 * gets that child (or its exec error) when it asks for exactly what was spawned.
 */
class EarlySpawnKernel extends LinuxKernel {
  private early: { req: SpawnRequest; result: Spawned | KernelError } | null = null;

  /** Spawn `command` as `pidone -- command` would, if nothing stands in the way. */
  spawnEarly(command: readonly string[]): void {
    const self = this.self();
    // With a terminal on stdin the policy may hand the child the foreground group
    // (Init.prepareTerminal): interactive use, where a few ms do not matter.
    if (this.isatty(0)) return;
    const env = childEnvironment(process.env);
    const file = command[0]!;
    if (mightBePidone(file, env)) return;
    // Init becomes a subreaper before it spawns, so that no orphan of an early
    // double-fork goes to the real init. If that fails, Init says so and exits.
    if (self.pid !== 1) {
      try {
        this.setChildSubreaper(true);
      } catch {
        return;
      }
    }
    const listenPid = env.find((e) => e.startsWith('LISTEN_PID='))?.slice('LISTEN_PID='.length);
    const req: SpawnRequest = {
      file,
      args: [...command],
      env,
      setsid: false,
      inheritFds: this.inheritedFds(),
      ...(listenPid !== undefined && Number(listenPid) === self.pid ? { envPidVar: 'LISTEN_PID' } : {}),
    };
    let result: Spawned | KernelError;
    try {
      result = super.spawn(req);
    } catch (error) {
      // fork failed or exec failed: the policy reports it when it asks.
      if (!(error instanceof KernelError)) return;
      result = error;
    }
    this.early = { req, result };
  }

  override spawn(req: SpawnRequest): Spawned {
    const early = this.early;
    if (early === null) return super.spawn(req);
    this.early = null;
    if (!sameRequest(early.req, req)) {
      // A pidone bug: the fast path's idea of `pidone -- cmd` differs from the
      // policy's. Do what the policy asks, with a child started its way.
      try {
        writeSync(2, 'pidone: internal: the early spawn does not match the configuration; restarting the child\n');
      } catch {
        // Nowhere to report it.
      }
      if (!(early.result instanceof KernelError)) {
        try {
          this.kill(-early.result.pgid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      return super.spawn(req);
    }
    if (early.result instanceof KernelError) throw early.result;
    return early.result;
  }
}
