/**
 * pidone as the entrypoint of a real container (runc), laid out as the Dockerfile's
 * image is (runc.ts): `runc kill` reaches pidone as PID 1 and ends the container at
 * once, orphans are reaped inside, and what remains is handled per --remaining.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { execForm, last, parseDockerfile } from './dockerfile.js';
import { ContainerLab, describeWithRunc, IMAGE_PIDONE, type Container } from './runc.js';

/**
 * From `runc kill` to the container's exit, once pidone is up: pidone forwards at
 * once, so this is the child's own reaction time plus runc's (Docker would wait 10 s).
 */
const PROMPT_MS = 4000;

/** Host processes whose command line contains `token`. */
function hostProcessesWith(token: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'latin1').includes(token)) found.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

describeWithRunc('pidone as the entrypoint of a runc container (the image layout)', () => {
  let lab: ContainerLab;

  beforeAll(() => {
    lab = new ContainerLab();
    lab.stageImage();
  }, 60_000);
  afterEach(async () => {
    await lab.cleanupContainers();
  });
  afterAll(async () => {
    await lab?.dispose();
  });

  async function killAndTime(c: Container, signal: string): Promise<{ code: number | null; ms: number }> {
    const t0 = performance.now();
    c.kill(signal);
    const exit = await c.exited;
    return { code: exit.code, ms: exit.at - t0 };
  }

  it("runs the Dockerfile's example CMD under its ENTRYPOINT; runc kill TERM ends it with 0", async () => {
    const dockerfile = parseDockerfile();
    const final = dockerfile.stages[dockerfile.stages.length - 1]!;
    const entrypoint = execForm(last(final, 'ENTRYPOINT'))!;
    const cmd = execForm(last(final, 'CMD'))!;
    expect(entrypoint[0]).toBe('pidone'); // /usr/local/bin/pidone -> /opt/pidone/bin/pidone in the image
    // -v (before the entrypoint's `--`) only so the test can tell when pidone is up.
    const c = lab.run({ args: ['-v', ...entrypoint.slice(1), ...cmd] });
    await c.waitForStdout(/pidone is PID 1/);
    await c.waitForLog('started child');
    const { code, ms } = await killAndTime(c, 'TERM');
    expect(code).toBe(0);
    expect(ms).toBeLessThan(PROMPT_MS);
  });

  it('runc kill TERM, child traps TERM: exit 0, promptly', async () => {
    const c = lab.run({
      args: ['-v', '--', 'sh', '-c', 'trap "echo got TERM; exit 0" TERM; echo ready $PPID; while :; do sleep 1; done'],
    });
    const [, parent] = (await c.waitForStdout(/ready (\d+)/))!;
    await c.waitForLog('started child');
    expect(parent).toBe('1'); // the child's parent is pidone, PID 1 of the container
    const { code, ms } = await killAndTime(c, 'TERM');
    expect(c.stdout).toContain('got TERM');
    expect(code).toBe(0);
    expect(ms).toBeLessThan(PROMPT_MS);
  });

  it('runc kill TERM, child does not trap it: exit 143 (128 + SIGTERM), promptly', async () => {
    const c = lab.run({ args: ['-v', '--', 'sh', '-c', 'echo ready; exec sleep 1000'] });
    await c.waitForStdout(/ready/);
    await c.waitForLog('started child');
    const { code, ms } = await killAndTime(c, 'TERM');
    expect(code).toBe(143);
    expect(ms).toBeLessThan(PROMPT_MS);
  });

  it('reaps the orphans made inside and leaves no zombie', async () => {
    const script = [
      'for i in $(seq 20); do (sleep 0.2 &); done',
      'sleep 1.5',
      // Every zombie in the container's PID namespace (its own /proc).
      'zombies=$(grep -l "^State:[[:space:]]*Z" /proc/[0-9]*/status 2>/dev/null | wc -l)',
      'echo "zombies $zombies"',
      'exit 3',
    ].join('\n');
    const c = lab.run({ args: ['-vv', '--', 'sh', '-c', script] });
    const exit = await c.exited;
    expect(c.stdout).toContain('zombies 0');
    expect(exit.code).toBe(3);
    const reaped = c.logs().filter((l) => l['msg'] === 'reaped orphan');
    expect(reaped).toHaveLength(20);
    for (const line of c.logs()) expect(line['pid']).toBe(1);
  });

  it('--remaining kill: TERM to what remains, then KILL after --grace for what ignores TERM', async () => {
    const token = `4${process.pid}${Date.now() % 100000}`;
    const script = `sleep ${token} & (trap "" TERM; exec sleep ${token}1) & echo ready; exit 4`;
    const c = lab.run({ args: ['-v', '--remaining', 'kill', '--grace', '1s', '--', 'sh', '-c', script] });
    const t0 = performance.now();
    const exit = await c.exited;
    const ms = exit.at - t0;
    expect(exit.code).toBe(4);
    expect(ms).toBeGreaterThanOrEqual(900); // the grace period ran out for the TERM-ignoring one
    expect(ms).toBeLessThan(1000 + PROMPT_MS);
    const msgs = c.logs().map((l) => l['msg']);
    expect(msgs).toContain('child exited; sending SIGTERM to what remains');
    expect(msgs).toContain('grace period over: sending SIGKILL to what remains');
    expect(hostProcessesWith(token)).toEqual([]);
  });

  it('--remaining kill: what obeys TERM ends the container well before --grace', async () => {
    const c = lab.run({ args: ['-v', '--grace', '20s', '--', 'sh', '-c', 'sleep 1000 & sleep 1000 & echo ready; exit 4'] });
    const t0 = performance.now();
    const exit = await c.exited;
    expect(exit.code).toBe(4);
    expect(exit.at - t0).toBeLessThan(10_000); // from the container's start; the grace period is 20 s
    const last = c.logs().pop()!;
    expect(last['msg']).toBe('nothing remains; exiting');
    expect(last['aliveAtTerm']).toBe(2);
    expect(last['escalation']).toBe('term'); // SIGTERM was enough: no SIGKILL
  });

  it('--remaining wait: waits for what remains, then exits with the child code', async () => {
    const c = lab.run({ args: ['--remaining', 'wait', '--', 'sh', '-c', '(sleep 1; echo leftover done) & exit 5'] });
    const t0 = performance.now();
    const exit = await c.exited;
    expect(c.stdout).toContain('leftover done');
    expect(exit.code).toBe(5);
    expect(exit.at - t0).toBeGreaterThanOrEqual(900);
  });

  it('--remaining leave: exits at once; the kernel ends the rest with the PID namespace', async () => {
    const token = `6${process.pid}${Date.now() % 100000}`;
    const c = lab.run({ args: ['-v', '--remaining', 'leave', '--', 'sh', '-c', `sleep ${token} & echo ready; exit 6`] });
    const t0 = performance.now();
    const exit = await c.exited;
    expect(exit.code).toBe(6);
    expect(exit.at - t0).toBeLessThan(10_000); // from the container's start; nothing waits
    const msgs = c.logs().map((l) => l['msg']);
    expect(msgs).toContain('child exited');
    expect(msgs).not.toContain('child exited; sending SIGTERM to what remains'); // pidone signalled nothing
    // PID 1 of a namespace gone: the kernel SIGKILLs the rest (pid_namespaces(7)).
    const end = Date.now() + 5000;
    while (hostProcessesWith(token).length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(hostProcessesWith(token)).toEqual([]);
  });

  it('exits 127 with a clear line when the command is not in the image', async () => {
    const c = lab.run({ args: ['--', 'no-such-command-in-the-image'] });
    const exit = await c.exited;
    expect(exit.code).toBe(127);
    expect(c.stderr).toContain("pidone: cannot run 'no-such-command-in-the-image'");
  });

  it('is the image layout: pidone runs from /opt/pidone as PID 1 and reports its version', async () => {
    const c = lab.run({ args: ['--', 'sh', '-c', `echo "init: $(tr '\\0' ' ' </proc/1/cmdline)"; ${IMAGE_PIDONE} --version`] });
    const exit = await c.exited;
    expect(exit.code).toBe(0);
    // The native launcher (bin/pidone) ran Node on the JavaScript half beside it (docs/decisions.md).
    expect(c.stdout).toMatch(/init: \S*node .*\/opt\/pidone\/bin\/pidone\.sh --/);
    expect(c.stdout).toMatch(/pidone \d+\.\d+\.\d+/);
  });
});
