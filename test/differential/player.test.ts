/**
 * The differential machinery itself, on the simulator alone (no namespaces needed):
 * scripts parse and name their errors, every corpus scenario plays, the comparer finds
 * and prints the first divergence with both sides, and generated scenarios are
 * deterministic on the simulator.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firstDivergence, formatDivergence } from './compare.js';
import { CORPUS } from './corpus.js';
import { intents, realize } from './generator.js';
import { play } from './player.js';
import type { RawAnswer, Side } from './protocol.js';
import { parseAnswer } from './protocol.js';
import { parseScript, ScriptError } from './script.js';
import { SimSide } from './sim-side.js';

function scriptError(text: string): string {
  try {
    parseScript(text, 't');
  } catch (e) {
    if (e instanceof ScriptError) return e.message;
    throw e;
  }
  return 'no error';
}

/** A side that answers like the simulator, except that it lies about one reply. */
class LyingSide implements Side {
  readonly name = 'liar';
  private readonly inner = new SimSide();
  constructor(private readonly lieAt: number) {}
  begin(): Promise<RawAnswer> {
    return this.inner.begin();
  }
  async step(seq: number, actor: number, op: number, a: number, b: number, c: number): Promise<RawAnswer> {
    const answer = await this.inner.step(seq, actor, op, a, b, c);
    if (seq !== this.lieAt) return answer;
    return { ...answer, replies: answer.replies.map((r) => ({ ...r, errno: 'EPERM', values: [] })) };
  }
  end(): Promise<void> {
    return this.inner.end();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe('differential scripts', () => {
  it('names the problem and the line', () => {
    expect(scriptError('p1 fork p2\np2 frob')).toBe("t:2: unknown step 'frob'");
    expect(scriptError('p1 kill p9 TERM')).toBe('t:1: p9 is not created before this step');
    expect(scriptError('p1 kill p1 SIGFOO')).toBe("t:1: unknown signal 'SIGFOO'");
    expect(scriptError('p1 fork p2\np1 fork p2')).toBe('t:2: p2 already exists');
    expect(scriptError('p1 thread p2')).toBe('t:1: processes are p<n>, threads t<n>');
    expect(scriptError('p1 lastpid max-1\n# comment\n\np1 wait -1 nohang')).toBe('no error');
  });

  it('corpus ids are unique and every rule is named', () => {
    const ids = CORPUS.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(CORPUS.length).toBeGreaterThanOrEqual(50);
    for (const s of CORPUS) expect(s.rule.length).toBeGreaterThan(10);
  });

  it('parses the runner\'s answer lines', () => {
    const a = parseAnswer(['C 1', 'H 0 1 1 0 0 0 2,1 2,1', 'R 0 3 err ESRCH', 'R 0 4 ok 2 768', 'S 0 10', 'P 2 1 1 1 2:S 5:Z status=exit:3']);
    expect(a.coord).toBe(1);
    expect(a.hellos[0]!.nspid).toEqual([2, 1]);
    expect(a.replies).toEqual([
      { actor: 0, seq: 3, errno: 'ESRCH', values: [] },
      { actor: 0, seq: 4, errno: null, values: [2, 768] },
    ]);
    expect(a.caught).toEqual([{ actor: 0, signo: 10 }]);
    expect(a.procs[0]).toEqual({ pid: 2, ppid: 1, pgid: 1, sid: 1, tasks: [{ tid: 2, state: 'S' }, { tid: 5, state: 'Z' }], status: 'exit:3' });
  });
});

describe('the comparer', () => {
  it('agrees with itself on every corpus scenario (the simulator is deterministic)', async () => {
    for (const s of CORPUS) {
      const a = await play(new SimSide(), s.steps);
      const b = await play(new SimSide(), s.steps);
      expect(a.error, s.id).toBeUndefined();
      expect(firstDivergence(a, b), s.id).toBeNull();
    }
  });

  it('prints the first divergence with both sides', async () => {
    const steps = parseScript('p1 fork p2\np2 setsid\np2 report');
    const truth = await play(new SimSide(), steps);
    const lie = await play(new LyingSide(2), steps);
    const d = firstDivergence(truth, lie)!;
    expect(d).toMatchObject({ index: 2, field: 'result' });
    const text = formatDivergence(steps, d, truth, lie);
    expect(text).toContain('first divergence at step 2 (result):');
    expect(text).toContain('>>  2  p2 setsid');
    expect(text).toMatch(/linux:\n {4}result: sid 2/);
    expect(text).toMatch(/sim:\n {4}result: EPERM/);
  });

  it('records a SIGCHLD log and a vfork caller\'s late reply', async () => {
    expect(scriptError('p1 fork p2 vfork tid 5')).toBe('no error');
    expect(scriptError('p1 fork p2 vforked')).toBe("t:1: expected 'newns', 'parent', 'vfork' or 'tid N', got 'vforked'");
    expect(scriptError('p1 chldlog 3')).toBe("t:1: 'chldlog' takes 0 argument(s)");
    const o = await play(new SimSide(), parseScript('p1 trap CHLD\np1 fork p2 vfork\np2 exit 3\np1 chldlog\np1 chldlog'));
    expect(o.steps.map((r) => r.result)).toEqual(['ok', 'ok', 'pending', 'none', 'CLD_EXITED pid 2 exit 3', 'none']);
    expect(o.steps[2]!.hello).toEqual(['p2: pid=2 tid=2 ppid=1 pgid=0 sid=0 nspid=2']);
    expect(o.steps[3]!.late).toEqual(['p1: pid 2']);
  });

  it('never generates a scenario whose end would leave p1 stuck in zap_pid_ns_processes', async () => {
    // The predicate itself: an inner init that exec'd (its parent can no longer move it)
    // dies in a group led by a process of its namespace; p1's own death would wait on it.
    const stuck = new SimSide();
    await play(stuck, parseScript('p1 fork p2 newns\np2 fork p3\np3 setpgid 0 0\np2 setpgid 0 p3\np2 exec\np2 exit 0'));
    expect(stuck.teardownStuck()).toBe(true);
    const moved = new SimSide();
    await play(moved, parseScript('p1 fork p2 newns\np2 fork p3\np3 setpgid 0 0\np2 setpgid 0 p3\np2 exit 0\np1 setpgid p2 p2'));
    expect(moved.teardownStuck()).toBe(false);
    await fc.assert(
      fc.asyncProperty(intents, async (chosen) => {
        const steps = await realize(chosen);
        const side = new SimSide();
        await play(side, steps);
        expect(side.teardownStuck(), steps.map((x) => x.line).join('\n')).toBe(false);
      }),
      { seed: 11, numRuns: 300 },
    );
  });

  it('generated scenarios replay identically on the simulator', async () => {
    await fc.assert(
      fc.asyncProperty(intents, async (chosen) => {
        const steps = await realize(chosen);
        const a = await play(new SimSide(), steps);
        const b = await play(new SimSide(), steps);
        expect(firstDivergence(a, b)).toBeNull();
      }),
      { seed: 7, numRuns: 100 },
    );
  });
});
