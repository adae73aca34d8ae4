/**
 * The same init policy on the simulated kernel (pidone/sim): no privileges, no real
 * processes, virtual time. What a test in an unprivileged CI job can check: here, that
 * an app which leaves a worker behind exits with its code and the worker is dealt with.
 *
 *   node simulated.js        # prints the process tree and exits 0 when all went as expected
 */
import { runInit } from 'pidone';
import { SimKernel } from 'pidone/sim';

const sim = new SimKernel({
  programs: {
    // The command: forks a worker that ignores SIGTERM, then exits 3 after 1 s.
    app: [{ fork: 'worker' }, { sleep: 1000 }, { exit: 3 }],
    worker: [{ ignore: 'SIGTERM' }, { pause: true }],
  },
});

const started = sim.now();
// The worker ignores SIGTERM: pidone waits out --grace (2 s of virtual time), then SIGKILLs it.
const code = await runInit({ args: ['--grace', '2s', '--', 'app'], kernel: sim, env: [] });
const elapsed = sim.now() - started;
const left = sim.ps().filter((p) => p.name === 'app' || p.name === 'worker');

console.log(`exit code ${code}, virtual time ${elapsed} ms, processes left ${left.length}`);
process.exit(code === 3 && elapsed === 3000 && left.length === 0 ? 0 : 1);
