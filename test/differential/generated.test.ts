/**
 * 1,000 random scenarios (generator.ts) on Linux and on SimKernel; the records must
 * be equal. Seeded: DIFF_SEED replays a run (the seed is printed on failure, with the
 * scenario as a script), DIFF_RUNS changes the count.
 *
 * A scenario whose outcome on Linux depends on a race is rejected, not failed: when
 * the records differ, the scenario is played on Linux twice more, and if Linux does
 * not agree with itself it is reported as racy (the generator should learn to avoid
 * it) and skipped. If Linux agrees with itself, the simulator is wrong.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithNamespaces } from '../helpers/privilege.js';
import { check, firstDivergence } from './compare.js';
import { intents, realize } from './generator.js';
import { play } from './player.js';
import { RealSide } from './real-side.js';
import { formatScript } from './script.js';
import { SimSide } from './sim-side.js';

const SEED = Number(process.env['DIFF_SEED'] ?? 20260401);
const RUNS = Number(process.env['DIFF_RUNS'] ?? 1000);

describeWithNamespaces('differential check: generated scenarios agree on Linux and SimKernel', () => {
  let linux: RealSide;
  beforeAll(() => {
    linux = new RealSide();
  });
  afterAll(async () => {
    await linux.close();
  });

  it(`${RUNS} generated scenarios (seed ${SEED})`, async () => {
    const racy: string[] = [];
    let played = 0;
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(intents, async (chosen) => {
        const steps = await realize(chosen);
        played++;
        const r = await check(steps, linux, new SimSide());
        if (r.divergence === null) return;
        const again = [await play(linux, steps), await play(linux, steps)];
        if (again.some((o) => firstDivergence(r.linux, o) !== null)) {
          racy.push(formatScript(steps));
          fc.pre(false);
        }
        throw new Error(`the simulator diverges from Linux (replay with DIFF_SEED=${SEED}):\n${formatScript(steps)}\n\n${r.divergence}`);
      }),
      { seed: SEED, numRuns: RUNS, maxSkipsPerRun: 1 },
    );
    const seconds = (Date.now() - started) / 1000;
    console.log(`differential: ${played} scenarios played in ${seconds.toFixed(1)}s (seed ${SEED}), ${racy.length} rejected as racy`);
    if (racy.length > 0) console.warn(`racy scenarios (the generator should exclude these):\n${racy.join('\n---\n')}`);
    // A few racy ones are tolerated; many mean the generator has lost its rules.
    expect(racy.length, racy.join('\n---\n')).toBeLessThanOrEqual(Math.ceil(RUNS / 100));
    // At least 10 minutes; a long run (DIFF_RUNS=20000) gets half a second a scenario.
  }, Math.max(600_000, RUNS * 500));
});
