import { it } from 'vitest';
import { formatObservation, check } from './compare.js';
import { CORPUS } from './corpus.js';
import { play } from './player.js';
import { RealSide } from './real-side.js';
import { SimSide } from './sim-side.js';

it('debug', async () => {
  const ids = (process.env.IDS ?? '').split(',');
  for (const id of ids) {
    const s = CORPUS.find((c) => c.id === id)!;
    const sim = await play(new SimSide(), s.steps);
    console.log(`== ${id} sim\n${formatObservation(s.steps, sim)}`);
    if (process.env.REAL) {
      const linux = new RealSide();
      const real = await play(linux, s.steps);
      console.log(`== ${id} linux\n${formatObservation(s.steps, real)}`);
      await linux.close();
    }
  }
}, 120000);
