/**
 * pidone under the restrictions a careful deployment adds: a read-only root, a user
 * that is nobody, no capabilities, no-new-privileges, a pids limit, a small memory
 * limit; and NODE_OPTIONS meant for a Node app, which pidone (itself Node) must pass
 * on unchanged.
 */
import { describe, expect, it } from 'vitest';
import { SIGNAL_APP } from './apps.js';
import { IMAGE, docker, dockerSkipReason, logs, removeContainersAfterEach, runDetached, runForeground, waitExit, waitForOutput } from './docker.js';

const skip = dockerSkipReason();

const HARDENED = ['--read-only', '--user', '65534', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--pids-limit', '64'];

describe.skipIf(skip !== '')(`pidone:test under limits${skip ? ` (skipped: ${skip})` : ''}`, () => {
  removeContainersAfterEach();

  it('runs read-only, as nobody, with no capabilities, no new privileges and a pids limit', () => {
    const r = runForeground(HARDENED, IMAGE, [
      'sh', '-c',
      'id -u; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status; cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max; ' +
        'tr "\\0" " " </proc/1/cmdline; echo; touch /written 2>&1; exit 3',
    ]);
    expect(r.status, r.stderr).toBe(3);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('65534');
    expect(r.stdout).toMatch(/^CapEff:\s+0+$/m);
    expect(r.stdout).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(r.stdout).toMatch(/^64$/m);
    expect(r.stdout).toMatch(/pidone/);
    expect(r.stdout).toMatch(/Read-only file system/);
  });

  it('docker stop and docker kill work the same under those restrictions', async () => {
    const id = runDetached(HARDENED, IMAGE, ['node', '-e', SIGNAL_APP]);
    await waitForOutput(id, /^ready$/m);
    expect(docker(['kill', '-s', 'USR1', id]).status).toBe(0);
    await waitForOutput(id, /^got SIGUSR1$/m);
    expect(docker(['stop', '-t', '30', id]).status).toBe(0);
    expect(waitExit(id)).toBe(0);
  });

  it('runs within --memory 12m: pidone and a shell app start, take signals and stop', async () => {
    // pidone is a Node process tuned to stay small (a single-threaded GC, no
    // optimizing compiler): a 12 MiB cgroup holds it and a shell app, and it leaves
    // with the app's status, not an OOM kill.
    const app = "trap 'echo got USR1' USR1; trap 'echo got TERM; exit 0' TERM; echo ready; while :; do sleep 0.2; done";
    const id = runDetached(['--memory', '12m'], IMAGE, ['sh', '-c', app]);
    await waitForOutput(id, /^ready$/m);
    const limit = docker(['exec', id, 'sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max']);
    expect(Number(limit.stdout.trim())).toBe(12 * 1024 * 1024);
    expect(docker(['kill', '-s', 'USR1', id]).status).toBe(0);
    await waitForOutput(id, /^got USR1$/m);
    expect(docker(['stop', '-t', '30', id]).status).toBe(0);
    expect(waitExit(id)).toBe(0);
    expect(docker(['inspect', '--format', '{{.State.OOMKilled}}', id]).stdout.trim()).toBe('false');
    expect(logs(id).stdout).toContain('got TERM');
  });

  it('NODE_OPTIONS given to the container reaches the Node app unchanged, and takes effect there', () => {
    const options = '--max-old-space-size=48 --no-deprecation';
    const r = runForeground(['-e', `NODE_OPTIONS=${options}`], IMAGE, [
      'node', '-e', "console.log(JSON.stringify(process.env.NODE_OPTIONS)); console.log(require('node:v8').getHeapStatistics().heap_size_limit)",
    ]);
    expect(r.status, r.stderr).toBe(0);
    const [seen, limit] = r.stdout.trim().split('\n');
    expect(seen).toBe(JSON.stringify(options));
    // Node's default is gigabytes; 48 MiB of old space (plus the young generation)
    // stays far below 128 MiB.
    expect(Number(limit)).toBeLessThan(128 * 1024 * 1024);
  });
});
