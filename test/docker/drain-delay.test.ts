/**
 * The drain delay under a real Docker engine (`--drain-delay DURATION`,
 * PIDONE_DRAIN_DELAY): on the first SIGTERM, from `docker stop`, pidone holds the
 * signal back for the delay while the app keeps serving, as a pod being removed from
 * the load balancers must; a second stop or an INT forwards at once; other signals
 * pass meanwhile; the app ending by itself ends the wait.
 *
 * The app is a server on 127.0.0.1:8080 inside the container (loopback exists with
 * --network none); a loop started with `docker exec` connects every 100 ms and the
 * server prints each accept and the stopping signal with Date.now(), which the
 * container shares with the host, so times are compared with the moment `docker stop`
 * was run here. Timing is what these tests are about, so they assert it, with margins.
 */
import { describe, expect, it } from 'vitest';
import { PROBE_LOOP, SERVER_APP } from './apps.js';
import {
  IMAGE,
  docker,
  dockerAsync,
  dockerSkipReason,
  logs,
  removeContainersAfterEach,
  runDetached,
  sleep,
  waitExit,
  waitForOutput,
} from './docker.js';

const skip = dockerSkipReason();

/** The server under pidone with these flags (or environment), probed from inside. */
async function startServer(pidoneFlags: string[], env: string[] = []): Promise<string> {
  const envOptions = env.flatMap((e) => ['-e', e]);
  const id = runDetached([...envOptions, '--entrypoint', 'pidone'], IMAGE, [...pidoneFlags, '--', 'node', '-e', SERVER_APP]);
  await waitForOutput(id, /^listening$/m);
  expect(docker(['exec', '-d', id, 'bash', '-c', PROBE_LOOP]).status).toBe(0);
  await waitForOutput(id, /^accept \d+$/m);
  return id;
}

interface ServerRecord {
  accepts: number[];
  /** The stopping signal the server got, and when. */
  stop: { signal: string; at: number } | undefined;
  usr1: number[];
  leftAt: number | undefined;
}

function record(id: string): ServerRecord {
  const out = logs(id).stdout;
  const times = (re: RegExp): number[] => [...out.matchAll(re)].map((m) => Number(m[1]));
  const stop = /^stop (SIG[A-Z]+) (\d+)$/m.exec(out);
  return {
    accepts: times(/^accept (\d+)$/gm),
    stop: stop ? { signal: stop[1] ?? '', at: Number(stop[2]) } : undefined,
    usr1: times(/^got SIGUSR1 (\d+)$/gm),
    leftAt: times(/^leaving by itself (\d+)$/gm)[0],
  };
}

describe.skipIf(skip !== '')(`drain delay under Docker${skip ? ` (skipped: ${skip})` : ''}`, () => {
  removeContainersAfterEach();

  it('without a drain delay, docker stop reaches the server at once (the baseline the delay changes)', async () => {
    const id = await startServer([]);
    const t0 = Date.now();
    expect(docker(['stop', '-t', '30', id]).status).toBe(0);
    expect(waitExit(id)).toBe(0);
    const { stop } = record(id);
    expect(stop?.signal).toBe('SIGTERM');
    expect(stop!.at - t0).toBeLessThan(1500);
  });

  it('--drain-delay 2s: the server still accepts 1.5 s after docker stop and gets SIGTERM at about 2 s', async () => {
    const id = await startServer(['--drain-delay', '2s']);
    const t0 = Date.now();
    const stop = await dockerAsync(['stop', '-t', '30', id]);
    expect(stop.status).toBe(0);
    expect(waitExit(id)).toBe(0);
    const { accepts, stop: stopped } = record(id);
    expect(stopped?.signal).toBe('SIGTERM');
    const termAt = stopped!.at - t0;
    // Not before the delay (pidone got the TERM after t0); well before docker's 30 s.
    expect(termAt).toBeGreaterThanOrEqual(1950);
    expect(termAt).toBeLessThan(5000);
    // Connections were still accepted 1.5 s after docker stop, before the TERM.
    expect(accepts.filter((a) => a >= t0 + 1500 && a < stopped!.at).length).toBeGreaterThan(0);
  });

  it('PIDONE_DRAIN_DELAY=2s in the container environment delays the TERM the same way', async () => {
    const id = await startServer([], ['PIDONE_DRAIN_DELAY=2s']);
    const t0 = Date.now();
    expect((await dockerAsync(['stop', '-t', '30', id])).status).toBe(0);
    expect(waitExit(id)).toBe(0);
    const { stop } = record(id);
    expect(stop?.signal).toBe('SIGTERM');
    expect(stop!.at - t0).toBeGreaterThanOrEqual(1950);
    expect(stop!.at - t0).toBeLessThan(5000);
  });

  it('a second docker stop during the delay forwards the TERM at once', async () => {
    // A long delay, so that "at once" cannot be confused with the delay running out.
    const id = await startServer(['--drain-delay', '20s']);
    const t0 = Date.now();
    const first = dockerAsync(['stop', '-t', '60', id]);
    await sleep(1000);
    const t1 = Date.now();
    expect(docker(['stop', '-t', '60', id]).status).toBe(0);
    expect((await first).status).toBe(0);
    expect(waitExit(id)).toBe(0);
    const { stop, accepts } = record(id);
    expect(stop?.signal).toBe('SIGTERM');
    expect(stop!.at).toBeGreaterThanOrEqual(t1);
    expect(stop!.at - t1).toBeLessThan(5000);
    expect(stop!.at - t0).toBeLessThan(15_000);
    // Still serving between the two stops.
    expect(accepts.some((a) => a > t0 + 200 && a < t1)).toBe(true);
  });

  it('docker kill -s INT during the delay forwards at once', async () => {
    const id = await startServer(['--drain-delay', '20s']);
    const t0 = Date.now();
    const stop = dockerAsync(['stop', '-t', '60', id]);
    await sleep(1000);
    const t1 = Date.now();
    expect(docker(['kill', '-s', 'INT', id]).status).toBe(0);
    expect((await stop).status).toBe(0);
    expect(waitExit(id)).toBe(0);
    const { stop: stopped } = record(id);
    expect(stopped).toBeDefined();
    expect(['SIGINT', 'SIGTERM']).toContain(stopped!.signal);
    expect(stopped!.at).toBeGreaterThanOrEqual(t1);
    expect(stopped!.at - t1).toBeLessThan(5000);
    expect(stopped!.at - t0).toBeLessThan(15_000);
  });

  it('other signals pass during the delay, and the TERM still comes after it', async () => {
    const id = await startServer(['--drain-delay', '3s']);
    const t0 = Date.now();
    const stop = dockerAsync(['stop', '-t', '30', id]);
    await sleep(500);
    expect(docker(['kill', '-s', 'USR1', id]).status).toBe(0);
    expect((await stop).status).toBe(0);
    expect(waitExit(id)).toBe(0);
    const { stop: stopped, usr1 } = record(id);
    expect(usr1.length).toBe(1);
    expect(usr1[0]!).toBeLessThan(stopped!.at);
    expect(stopped?.signal).toBe('SIGTERM');
    expect(stopped!.at - t0).toBeGreaterThanOrEqual(2950);
  });

  it('the server ending by itself during the delay ends it: the container exits with its status, no TERM sent', async () => {
    const id = await startServer(['--drain-delay', '30s']);
    const t0 = Date.now();
    const stop = dockerAsync(['stop', '-t', '60', id]);
    await sleep(1000);
    expect(docker(['kill', '-s', 'USR2', id]).status).toBe(0);
    expect(waitExit(id)).toBe(4);
    expect((await stop).status).toBe(0);
    const { stop: stopped, leftAt } = record(id);
    expect(stopped).toBeUndefined();
    expect(leftAt).toBeDefined();
    expect(Date.now() - t0).toBeLessThan(20_000);
  });
});
