/**
 * The corpus on both kernels: every scenario of corpus.ts runs on Linux (a fresh PID
 * namespace per scenario, under one `unshare --pid --fork --mount-proc` runner) and
 * on SimKernel, and the two observation records must be equal. A difference prints
 * the first divergent step with both sides; the simulator is the one to fix.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithNamespaces } from '../helpers/privilege.js';
import { check } from './compare.js';
import { CORPUS } from './corpus.js';
import { RealSide } from './real-side.js';
import { SimSide } from './sim-side.js';

describeWithNamespaces('differential check: the corpus agrees on Linux and SimKernel', () => {
  let linux: RealSide;
  beforeAll(() => {
    linux = new RealSide();
  });
  afterAll(async () => {
    await linux.close();
  });

  for (const s of CORPUS) {
    it(`${s.id}: ${s.rule}`, async () => {
      const r = await check(s.steps, linux, new SimSide());
      expect(r.linux.error, `the real side failed: ${r.linux.error}`).toBeUndefined();
      expect(r.divergence, `${s.id}\n${r.divergence}`).toBeNull();
    });
  }
});
