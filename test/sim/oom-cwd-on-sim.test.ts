/**
 * What pidone does to itself once the child runs, on the simulated kernel: its cwd goes
 * to '/', its oom_score_adj as low as it may go; the child keeps what it inherited.
 */
import { describe, expect, it } from 'vitest';
import type { SimKernel, SimKernelOptions } from '../../src/kernel/sim/index.js';
import { runInitOnSim } from './init-harness.js';

/** pidone -vv running an app for 100 ms; the cwd and oom_score_adj of both, seen at 50 ms. */
async function runApp(options: SimKernelOptions, before?: (sim: SimKernel) => void) {
  let app: { cwd: string; adj: number } | null = null;
  let pidone: { cwd: string; adj: number } | null = null;
  const { code, logs } = await runInitOnSim(['-vv', '--', 'app'], { app: [{ sleep: 100 }, { exit: 0 }] }, {
    ...options,
    before: (sim) => {
      before?.(sim);
      sim.at(50, () => {
        app = { cwd: sim.cwdOf('app'), adj: sim.oomScoreAdjOf('app') };
        pidone = { cwd: sim.cwdOf(sim.pidonePid), adj: sim.oomScoreAdjOf(sim.pidonePid) };
      });
    },
  });
  return { code, app: app!, pidone: pidone!, lines: logs };
}

describe('pidone after the child started (simulator)', () => {
  for (const mode of ['pid1', 'subreaper'] as const) {
    it(`${mode}: pidone is at / with oom_score_adj -1000; the child keeps the cwd and value pidone started with`, async () => {
      const { code, app, pidone } = await runApp({ mode, cwd: '/srv/app', oomScoreAdj: 300 });
      expect(code).toBe(0);
      expect(app).toEqual({ cwd: '/srv/app', adj: 300 });
      expect(pidone).toEqual({ cwd: '/', adj: -1000 });
    });
  }

  it('without CAP_SYS_RESOURCE: as low as the minimum a privileged process set, and an info line', async () => {
    // A privileged runtime set 200 (and so the minimum); something unprivileged raised it to 900.
    const { app, pidone, lines } = await runApp({ cwd: '/srv/app', oomScoreAdj: 200, capSysResource: false }, (sim) => sim.setOomScoreAdj(900));
    expect(app.adj).toBe(900);
    expect(pidone.adj).toBe(200);
    const line = lines.find((l) => String(l['msg']).includes('oom_score_adj'));
    expect(line).toMatchObject({ level: 'info', from: 900, to: 200 });
  });

  it('without CAP_SYS_RESOURCE, at the minimum already: the value stays', async () => {
    const { pidone } = await runApp({ oomScoreAdj: 0, capSysResource: false });
    expect(pidone.adj).toBe(0);
  });

  it('already at -1000: left alone', async () => {
    const { app, pidone } = await runApp({ oomScoreAdj: -1000, capSysResource: false });
    expect(app.adj).toBe(-1000);
    expect(pidone.adj).toBe(-1000);
  });
});
