/**
 * --drain-delay on the real kernel, as PID 1 of a PID namespace and as a subreaper: a
 * server child keeps accepting connections while pidone holds the first SIGTERM, and
 * gets it when the delay is over; a second SIGTERM or a SIGINT forwards it at once;
 * PIDONE_DRAIN_DELAY sets the delay from the environment (natively and in tini's
 * mode). The timing of the delay itself is checked on virtual time in
 * test/policy/drain-delay-on-sim.test.ts; here the margins are generous.
 */
import { createConnection } from 'node:net';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeWithNamespaces } from '../helpers/privilege.js';
import { MODES, eachTestCleanup, poll, type Mode, type PidoneRun } from '../helpers/run-pidone.js';

const { start, tempDir } = eachTestCleanup('pidone-drain-delay-');

/**
 * A TCP server on 127.0.0.1 that answers every connection with "hello". It prints its
 * port once it listens, and each signal it gets with the wall-clock time it got it
 * (Date.now() reads the same clock inside a PID namespace). SIGTERM stops the listener
 * and exits 0 after a short moment, unless SIGINT or SIGQUIT have come too.
 */
const SERVER = `
const net = require('node:net');
const server = net.createServer((socket) => socket.end('hello\\n'));
server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
for (const signal of ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGUSR1']) {
  process.on(signal, () => {
    console.log('got ' + signal + ' at ' + Date.now());
    if (signal === 'SIGTERM') server.close();
    if (signal !== 'SIGUSR1') setTimeout(() => process.exit(0), 300);
  });
}
`;

function serverScript(): string {
  const path = join(tempDir(), 'server.cjs');
  writeFileSync(path, SERVER);
  return path;
}

/** Connect to the server and read its answer. */
function fetchHello(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (answer += d));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** When the child got `signal` (wall clock), each time it did. */
function receipts(run: PidoneRun, signal: string): number[] {
  return [...run.stdout.matchAll(new RegExp(`got ${signal} at (\\d+)`, 'g'))].map((m) => Number(m[1]));
}

async function started(run: PidoneRun): Promise<{ pidone: number; port: number }> {
  const port = Number((await run.waitForStdout(/listening (\d+)/))[1]);
  return { pidone: await run.hostPid(), port };
}

/** What each test measured (each is asserted where measured), printed for the record. */
const measured: string[] = [];
afterAll(() => {
  for (const line of measured) console.log(`drain-delay measured: ${line}`);
});

for (const mode of MODES) {
  const where = mode === 'pid1' ? 'PID 1' : 'a subreaper';
  const asSubreaper = (args: string[]) => (mode === 'subreaper' ? ['-s', ...args] : args);

  describeWithNamespaces(`--drain-delay, as ${where}`, () => {
    it('--drain-delay 2s: the server still accepts a connection 1.5 s after SIGTERM, and gets SIGTERM at about 2 s', async () => {
      const run = start(mode, ['-v', '--drain-delay', '2s', '--', 'node', serverScript()]);
      const { pidone, port } = await started(run);
      const sent = Date.now();
      process.kill(pidone, 'SIGTERM');
      await sleep(1500);
      expect(await fetchHello(port)).toBe('hello\n');
      const connectedAfter = Date.now() - sent;
      expect(receipts(run, 'SIGTERM')).toEqual([]);
      await poll(() => (receipts(run, 'SIGTERM').length > 0 ? true : undefined), 10_000, 'SIGTERM at the server');
      const after = receipts(run, 'SIGTERM')[0]! - sent;
      measured.push(`${mode}: connection answered ${connectedAfter} ms after SIGTERM; SIGTERM reached the child after ${after} ms`);
      expect(after).toBeGreaterThanOrEqual(1900);
      expect(after).toBeLessThan(4000);
      expect((await run.exited).code).toBe(0);
      expect(receipts(run, 'SIGTERM')).toHaveLength(1);
      const held = run.logs().find((l) => String(l['msg']).startsWith('drain delay: forwarding SIGTERM to the child in 2s'));
      expect(held).toMatchObject({ level: 'info', delay: '2s' });
      expect(run.logs().map((l) => l['msg'])).toContain('drain delay over: forwarding SIGTERM');
    });

    it('a second SIGTERM during the delay forwards it at once (one SIGTERM reaches the child)', async () => {
      const run = start(mode, ['-v', '--drain-delay', '30s', '--', 'node', serverScript()]);
      const { pidone } = await started(run);
      process.kill(pidone, 'SIGTERM');
      await sleep(500);
      expect(receipts(run, 'SIGTERM')).toEqual([]);
      const second = Date.now();
      process.kill(pidone, 'SIGTERM');
      await poll(() => (receipts(run, 'SIGTERM').length > 0 ? true : undefined), 10_000, 'SIGTERM at the server');
      const after = receipts(run, 'SIGTERM')[0]! - second;
      measured.push(`${mode}: second SIGTERM forwarded, child got it ${after} ms after`);
      expect(after).toBeLessThan(1000);
      expect((await run.exited).code).toBe(0);
      expect(receipts(run, 'SIGTERM')).toHaveLength(1);
    });

    it('SIGINT during the delay forwards the held SIGTERM and the SIGINT at once; other signals pass meanwhile', async () => {
      const run = start(mode, ['-v', '--drain-delay', '30s', '--', 'node', serverScript()]);
      const { pidone } = await started(run);
      process.kill(pidone, 'SIGTERM');
      await sleep(300);
      process.kill(pidone, 'SIGUSR1');
      await poll(() => (receipts(run, 'SIGUSR1').length > 0 ? true : undefined), 10_000, 'SIGUSR1 at the server');
      expect(receipts(run, 'SIGTERM')).toEqual([]);
      const interrupt = Date.now();
      process.kill(pidone, 'SIGINT');
      await poll(() => (receipts(run, 'SIGTERM').length > 0 && receipts(run, 'SIGINT').length > 0 ? true : undefined), 10_000, 'SIGTERM and SIGINT at the server');
      const after = Math.max(receipts(run, 'SIGTERM')[0]!, receipts(run, 'SIGINT')[0]!) - interrupt;
      measured.push(`${mode}: SIGINT during the delay, child got SIGTERM and SIGINT within ${after} ms`);
      expect(after).toBeLessThan(1000);
      expect((await run.exited).code).toBe(0);
    });

    it('PIDONE_DRAIN_DELAY sets the delay, with no flag at all (pidone -- cmd)', async () => {
      const run = start(mode, ['--', 'node', serverScript()], { PIDONE_DRAIN_DELAY: '1s' });
      const { pidone } = await started(run);
      const sent = Date.now();
      process.kill(pidone, 'SIGTERM');
      await poll(() => (receipts(run, 'SIGTERM').length > 0 ? true : undefined), 10_000, 'SIGTERM at the server');
      const after = receipts(run, 'SIGTERM')[0]! - sent;
      measured.push(`${mode}: PIDONE_DRAIN_DELAY=1s, child got SIGTERM after ${after} ms`);
      expect(after).toBeGreaterThanOrEqual(900);
      expect(after).toBeLessThan(3000);
      expect((await run.exited).code).toBe(0);
    });

    it('PIDONE_DRAIN_DELAY in tini compat mode', async () => {
      const run = start(mode, asSubreaper(['--', 'node', serverScript()]), { PIDONE_COMPAT: 'tini', PIDONE_DRAIN_DELAY: '1500ms' });
      const { pidone, port } = await started(run);
      const sent = Date.now();
      process.kill(pidone, 'SIGTERM');
      await sleep(1000);
      expect(await fetchHello(port)).toBe('hello\n');
      expect(receipts(run, 'SIGTERM')).toEqual([]);
      await poll(() => (receipts(run, 'SIGTERM').length > 0 ? true : undefined), 10_000, 'SIGTERM at the server');
      const after = receipts(run, 'SIGTERM')[0]! - sent;
      measured.push(`${mode}: tini mode with PIDONE_DRAIN_DELAY=1500ms, child got SIGTERM after ${after} ms`);
      expect(after).toBeGreaterThanOrEqual(1400);
      expect(after).toBeLessThan(3500);
      expect((await run.exited).code).toBe(0);
    });
  });
}

describeWithNamespaces('--drain-delay with --pid-ns', () => {
  it('the delay is counted once: the inner pidone holds the SIGTERM, the outer one passes it on', async () => {
    const run = start('subreaper', ['-v', '--pid-ns', '--drain-delay', '2s', '--', 'node', serverScript()]);
    const { pidone } = await started(run);
    const sent = Date.now();
    process.kill(pidone, 'SIGTERM');
    await poll(() => (receipts(run, 'SIGTERM').length > 0 ? true : undefined), 10_000, 'SIGTERM at the server');
    const after = receipts(run, 'SIGTERM')[0]! - sent;
    measured.push(`--pid-ns: child got SIGTERM after ${after} ms`);
    // Held twice it would come after 4 s.
    expect(after).toBeGreaterThanOrEqual(1900);
    expect(after).toBeLessThan(3500);
    expect((await run.exited).code).toBe(0);
    expect(run.logs().filter((l) => String(l['msg']).startsWith('drain delay: forwarding SIGTERM'))).toHaveLength(1);
  });
});

describeWithNamespaces('PIDONE_DRAIN_DELAY that is not a duration', () => {
  it.each([
    ['natively', {}],
    ['in tini compat mode', { PIDONE_COMPAT: 'tini' }],
  ] as Array<[string, NodeJS.ProcessEnv]>)('%s: one line naming it and what is accepted, exit 2, nothing spawned', async (_, env) => {
    const dir = tempDir();
    const marker = join(dir, 'spawned');
    const run = start('subreaper' as Mode, ['--', 'sh', '-c', `touch ${marker}`], { ...env, PIDONE_DRAIN_DELAY: '2 seconds' });
    expect((await run.exited).code).toBe(2);
    expect(run.stderr).toBe(
      "pidone: PIDONE_DRAIN_DELAY: '2 seconds' is not a duration; accepted: a number with a unit ms, s, m or h (500ms, 2s, 1.5s, 1m), or 0\n",
    );
    expect(existsSync(marker)).toBe(false);
  });
});
