/**
 * Under a memory limit the OOM killer must not pick pidone: its badness counts Node's
 * mapped binary (~35 MB), more than a typical worker, and its death takes every process
 * it supervises (as PID 1, the whole container). pidone lowers its own oom_score_adj
 * after spawning the child, which keeps the value it was given.
 *
 * Each test makes a cgroup v1 memory group, starts pidone in it (a small sh wrapper
 * moves itself into the group, then execs pidone), and runs workers there until the
 * kernel kills one.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixture, PIDONE } from '../helpers/paths.js';
import { describeWithNamespaces, inCiAsRoot } from '../helpers/privilege.js';
import { isRunning, MODES, PidoneRun, poll, type Mode } from '../helpers/run-pidone.js';

const MEMORY_CGROUP = '/sys/fs/cgroup/memory';
const MiB = 1024 * 1024;
/**
 * The group's limit and the workers: three workers of WORKER_MIB do not fit beside
 * pidone (which is charged only its ~7 MB of private memory: the binary's pages are in
 * the page cache already), two do. At the same oom_score_adj pidone's badness (~41 MB
 * resident) is the largest; a worker's passes it only once pidone's value is lower.
 */
const LIMIT_MIB = 56;
const WORKER_MIB = 20;

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function memoryCgroupSupport(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to create a memory cgroup';
  if (!existsSync(join(MEMORY_CGROUP, 'memory.limit_in_bytes'))) return `no cgroup v1 memory controller at ${MEMORY_CGROUP}`;
  return null;
}

function pidsIn(group: string): number[] {
  try {
    return readFileSync(join(group, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** A fresh memory group with a hard limit, no swap, and the OOM killer on; removed after the test. */
function memoryGroup(limitMiB: number): string {
  const group = join(MEMORY_CGROUP, `pidone-oom-test-${process.pid}-${Date.now()}`);
  mkdirSync(group);
  cleanups.push(() => {
    // Everything in the group first (the workers outlive a killed pidone), then the group.
    const end = Date.now() + 20_000;
    for (;;) {
      const left = pidsIn(group);
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone.
        }
      }
      try {
        rmdirSync(group);
        return;
      } catch (error) {
        if (Date.now() > end) throw new Error(`could not remove ${group}: ${String(error)} (left: ${left.join(' ')})`);
        spawnSync('sleep', ['0.05']);
      }
    }
  });
  const set = (file: string, value: string) => writeFileSync(join(group, file), value);
  set('memory.limit_in_bytes', String(limitMiB * MiB));
  // Swap would let the workers page out instead of meeting the limit: the memory+swap
  // limit equal to the memory limit means no swap for the group.
  if (existsSync(join(group, 'memory.memsw.limit_in_bytes'))) set('memory.memsw.limit_in_bytes', String(limitMiB * MiB));
  set('memory.swappiness', '0');
  set('memory.oom_control', '0');
  expect(readFileSync(join(group, 'memory.oom_control'), 'utf8')).toMatch(/^oom_kill_disable 0$/m);
  return group;
}

function oomKills(group: string): number {
  const m = /^oom_kill (\d+)$/m.exec(readFileSync(join(group, 'memory.oom_control'), 'utf8'));
  return m ? Number(m[1]) : 0;
}

function ppidOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** CAP_SYS_RESOURCE (capability 24) in this process's effective set. */
function hasCapSysResource(): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m !== null && (BigInt(`0x${m[1]}`) & (1n << 24n)) !== 0n;
}

/**
 * pidone started inside `group` with oom_score_adj `adj`: the wrapper moves itself
 * there, sets its value (raising it needs no privilege), then execs (unshare and) pidone.
 */
function startInGroup(mode: Mode, group: string, adj: number, args: string[]): PidoneRun {
  const command = mode === 'pid1' ? ['unshare', '--pid', '--fork', '--mount-proc', PIDONE, ...args] : [PIDONE, ...args];
  const wrapper = `echo $$ > "$0/cgroup.procs" && echo ${adj} > /proc/self/oom_score_adj && exec "$@"`;
  const proc = spawn('sh', ['-c', wrapper, group, ...command], { stdio: ['ignore', 'pipe', 'pipe'] });
  const run = new PidoneRun(proc, mode);
  cleanups.push(() => run.kill('SIGKILL'));
  return run;
}

const unsupported = memoryCgroupSupport();
const describeMemory = unsupported === null || inCiAsRoot ? describe : describe.skip;
if (unsupported !== null && !inCiAsRoot) console.warn(`skipping the OOM tests: ${unsupported}`);

describeMemory('the OOM killer spares pidone', () => {
  for (const mode of MODES) {
    describeWithNamespaces(`as ${mode === 'pid1' ? 'PID 1' : 'a subreaper'}`, () => {
      it('three workers do not fit under the limit: the kernel kills a worker, pidone goes on', async () => {
        expect(unsupported).toBeNull();
        const group = memoryGroup(LIMIT_MIB);
        const hog = fixture('hog');
        // The workers one after the other, so the first two are whole when the third
        // meets the limit.
        const workload = `${hog} ${WORKER_MIB} & sleep 0.3; ${hog} ${WORKER_MIB} & sleep 0.3; ${hog} ${WORKER_MIB} & wait`;
        // Started at 1000 (as a wrapper or a systemd --user unit may set it): the
        // workers keep it. pidone goes down to -1000 with CAP_SYS_RESOURCE, else to the
        // lowest it may without, 0 here; either way below every worker.
        const run = startInGroup(mode, group, 1000, ['-v', '--', 'sh', '-c', workload]);
        const pidone = await run.hostPid();
        // Workers never exit on their own: one that is gone was the OOM killer's victim.
        const workers = new Set<number>();
        const victimDied = () => {
          for (const pid of pidsIn(group)) if (commOf(pid) === 'hog' && isRunning(pid)) workers.add(pid);
          return !isRunning(pidone) || [...workers].some((pid) => !isRunning(pid)) ? true : undefined;
        };
        await poll(victimDied, 60_000, 'the OOM killer to kill pidone or a worker');
        expect(isRunning(pidone), `pidone was killed; stderr: ${run.stderr}`).toBe(true);
        expect(oomKills(group)).toBeGreaterThanOrEqual(1);
        // The child kept the value it was given; pidone lowered its own.
        const child = pidsIn(group).find((p) => commOf(p) === 'sh' && ppidOf(p) === pidone);
        expect(child).toBeDefined();
        expect(readFileSync(`/proc/${child}/oom_score_adj`, 'utf8').trim()).toBe('1000');
        expect(readFileSync(`/proc/${pidone}/oom_score_adj`, 'utf8').trim()).toBe(hasCapSysResource() ? '-1000' : '0');
        process.kill(pidone, 'SIGTERM');
        expect((await run.exited).code).toBe(143);
      });
    });
  }

  it('without CAP_SYS_RESOURCE, from 0: pidone keeps 0 and says why at info level', async () => {
    // setpriv takes the capability out of the bounding set, so that no exec gets it back
    // (capabilities(7)): the position of a container under Docker's default set.
    const run = new PidoneRun(
      spawn('setpriv', ['--bounding-set=-sys_resource', '--inh-caps=-sys_resource', 'sh', '-c', 'echo 0 > /proc/self/oom_score_adj && exec "$@"', 'sh', PIDONE, '-v', '--', 'sleep', '1000'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
      'subreaper',
    );
    cleanups.push(() => run.kill('SIGKILL'));
    const pidone = await run.hostPid();
    const line = await poll(() => run.logs().find((l) => String(l['msg']).includes('oom_score_adj')), 20_000, "pidone's log line");
    expect(line).toMatchObject({
      level: 'info',
      msg: "without CAP_SYS_RESOURCE pidone's oom_score_adj can go no lower; the OOM killer weighs pidone like any process of that value, and may pick it first",
      from: 0,
      to: 0,
    });
    expect(readFileSync(`/proc/${pidone}/oom_score_adj`, 'utf8').trim()).toBe('0');
    process.kill(pidone, 'SIGTERM');
    expect((await run.exited).code).toBe(143);
  });
});
