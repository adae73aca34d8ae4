/**
 * Shared set-up for the simulator tests: a manually driven SimKernel (everything
 * happens inside run()/advance(), synchronously) whose pidone reaps on SIGCHLD and
 * records every batch, plus trace helpers.
 */
import type { ReceivedSignal, SpawnRequest } from '../../src/kernel/kernel.js';
import { SimKernel, type SimKernelOptions, type TraceEvent, type TraceKind } from '../../src/kernel/sim/index.js';
import type { TraceDetail } from '../../src/kernel/sim/trace.js';

export interface Harness {
  readonly sim: SimKernel;
  /** Every batch pidone's handler got. */
  readonly batches: ReceivedSignal[][];
  /** Every status pidone reaped. */
  readonly reaped: Array<{ pid: number; status: string }>;
}

/** A manual SimKernel whose pidone reaps on every SIGCHLD (unless reap: false). */
export function harness(options: SimKernelOptions & { reap?: boolean } = {}): Harness {
  const sim = new SimKernel({ autoRun: false, ...options });
  const batches: ReceivedSignal[][] = [];
  const reaped: Array<{ pid: number; status: string }> = [];
  sim.onSignal((batch) => {
    batches.push([...batch]);
    if (options.reap !== false && batch.some((b) => b.signal === 'SIGCHLD')) {
      for (const s of sim.reap().statuses) {
        reaped.push({ pid: s.pid, status: s.kind === 'exited' ? `exit ${s.code}` : s.signal });
      }
    }
  });
  return { sim, batches, reaped };
}

export function spawnReq(file: string, extra: Partial<SpawnRequest> = {}): SpawnRequest {
  return { file, args: [file], env: [], setsid: false, inheritFds: [], ...extra };
}

/** Events of `kind` about the process with root pid `pid` (any when undefined), optionally matching details. */
export function eventsOf(sim: SimKernel, kind: TraceKind, pid?: number, where: Record<string, TraceDetail> = {}): TraceEvent[] {
  return sim.trace.find(kind, where, pid);
}

/** The 'error' events of a process, as 'syscall:ERRNO'. */
export function errorsOf(sim: SimKernel, pid: number): string[] {
  return eventsOf(sim, 'error', pid).map((e) => `${e.details['syscall']}:${e.details['errno']}`);
}
