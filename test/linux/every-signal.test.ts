/**
 * Every signal reaches the child: each of 1-31 but SIGKILL, SIGSTOP and SIGCHLD, and
 * every real-time signal SIGRTMIN..SIGRTMAX, sent to pidone with kill(2), reaches a
 * child that handles them all (test/fixtures/sigrec.c), exactly once, and pidone is
 * alive afterwards. As PID 1 of a PID namespace and as a subreaper, in pidone's own
 * mode and in the tini and dumb-init compat modes.
 *
 * One pidone per mode and position, all signals in sequence, each acknowledged by the
 * child (its line in child.log) before the next is sent. What a compat mode does
 * differently on purpose is taken from the mode's own definition:
 * - tini mode forwards every one of them too (tini itself drops SIGTTIN, SIGTTOU and
 *   SIGABRT: docs/compat.md), to the child alone;
 * - dumb-init mode (setsid by default) passes SIGTSTP, SIGTTIN and SIGTTOU on as
 *   SIGSTOP, which the child cannot handle, and stops pidone too; SIGCONT sent to
 *   pidone resumes both (pidone forwards it, so the child records SIGCONT). A PID 1
 *   cannot stop itself (the kernel drops SIGSTOP sent to a namespace's init by
 *   itself), so only the subreaper is seen stopped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { JOB_CONTROL_STOP_SIGNALS, signalName, SIGRTMAX, SIGRTMIN } from '../../src/signals.js';
import { fixture } from '../helpers/paths.js';
import { describeWithNamespaces } from '../helpers/privilege.js';
import { MODES, childrenOf, poll, readSignalLog, startPidone, stateOf, type Mode, type PidoneRun } from '../helpers/run-pidone.js';

const running: PidoneRun[] = [];
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const run of running.splice(0)) {
    // A pidone left stopped by a failed dumb-init step would not act on SIGKILL's
    // neighbours; SIGKILL ends it either way.
    run.kill('SIGKILL');
  }
  for (const c of cleanups.splice(0)) c();
});

const { SIGKILL, SIGSTOP, SIGCHLD, SIGCONT } = constants.signals;

/** 1-31 without the three, then SIGRTMIN..SIGRTMAX. */
const EVERY_SIGNAL: readonly number[] = [
  ...Array.from({ length: 31 }, (_, i) => i + 1).filter((n) => n !== SIGKILL && n !== SIGSTOP && n !== SIGCHLD),
  ...Array.from({ length: SIGRTMAX - SIGRTMIN + 1 }, (_, i) => SIGRTMIN + i),
];

type Compat = 'none' | 'tini' | 'dumb-init';

interface ModeSetup {
  /** pidone's arguments before the command. */
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  /** Signals the mode drops on purpose: the child must not get them. */
  readonly dropped: ReadonlySet<number>;
  /** Signals the mode passes on as SIGSTOP and answers by stopping pidone too. */
  readonly stopAndResume: ReadonlySet<number>;
}

const numbers = (names: readonly string[]) => new Set(names.map((n) => constants.signals[n as keyof typeof constants.signals]));

const SETUPS: Record<Compat, ModeSetup> = {
  none: { args: ['--'], env: {}, dropped: new Set(), stopAndResume: new Set() },
  tini: { args: ['--compat', 'tini', '--'], env: {}, dropped: new Set(), stopAndResume: new Set() },
  'dumb-init': { args: [], env: { PIDONE_COMPAT: 'dumb-init' }, dropped: new Set(), stopAndResume: numbers(JOB_CONTROL_STOP_SIGNALS) },
};

function countOf(log: readonly number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const n of log) counts.set(n, (counts.get(n) ?? 0) + 1);
  return counts;
}

for (const compat of ['none', 'tini', 'dumb-init'] as const) {
  for (const mode of MODES) {
    const where = mode === 'pid1' ? 'PID 1' : 'a subreaper';
    describeWithNamespaces(`every signal reaches the child: ${compat === 'none' ? 'pidone' : compat} mode, as ${where}`, () => {
      it('1-31 (but KILL, STOP, CHLD) and SIGRTMIN..SIGRTMAX, each exactly once, and pidone lives on', async () => {
        const setup = SETUPS[compat];
        const dir = mkdtempSync(join(tmpdir(), 'pidone-every-signal-'));
        cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
        const run = startPidone(mode, [...setup.args, fixture('sigrec'), dir], { env: setup.env });
        running.push(run);
        await run.waitForStdout(/ready \d+/);
        const pidone = await run.hostPid();
        const child = await poll(() => childrenOf(pidone)[0], 10_000, 'the child');
        const logPath = join(dir, 'child.log');
        const expected: number[] = [];
        /** Wait until the child's log holds `count` lines. */
        const acknowledged = (count: number, what: string) =>
          poll(() => (readSignalLog(logPath).length >= count ? true : undefined), 10_000, `${what} at the child`);

        for (const sig of EVERY_SIGNAL) {
          const name = signalName(sig);
          process.kill(pidone, sig);
          if (setup.dropped.has(sig)) continue;
          if (setup.stopAndResume.has(sig)) {
            // The child gets SIGSTOP; pidone stops itself too (not as PID 1).
            await poll(() => (stateOf(child) === 'T' ? true : undefined), 10_000, `the child stopped by ${name}`);
            if (mode === 'subreaper') await poll(() => (stateOf(pidone) === 'T' ? true : undefined), 10_000, `pidone stopped by ${name}`);
            process.kill(pidone, SIGCONT);
            expected.push(SIGCONT);
            await acknowledged(expected.length, `SIGCONT after ${name}`);
            expect(stateOf(child)).not.toBe('T');
            continue;
          }
          expected.push(sig);
          await acknowledged(expected.length, name);
        }
        // A last one, acknowledged: anything dropped above that had been forwarded
        // after all would be in the log by now.
        process.kill(pidone, 'SIGUSR2');
        expected.push(constants.signals.SIGUSR2);
        await acknowledged(expected.length, 'the final SIGUSR2');

        const log = readSignalLog(logPath);
        expect(countOf(log)).toEqual(countOf(expected));
        // pidone is alive and still in charge: the child's exit is its exit.
        expect(stateOf(pidone)).toMatch(/^[RS]$/);
        run.proc.stdin!.end('exit 7\n');
        expect((await run.exited).code).toBe(7);
      });
    });
  }
}
