#!/usr/bin/env node
/**
 * pidone's benchmarks, side by side with tini, dumb-init, catatonit and a bare Node.
 *
 *   npm run bench                       the documented run (about 10 minutes)
 *   npm run bench -- --quick            a quick run for development (about 1 minute)
 *   node bench/run.mjs --idle 60 --only 1,2,4 --pidone /path/to/other/bin/pidone
 *
 * Writes bench/results/results.md (the table), bench/results/chart.svg and
 * bench/results/chart.png (the chart: hand-made SVG, converted with rsvg-convert from
 * Debian's librsvg2-bin), and the raw samples to bench/results/raw/ (not committed).
 * The method and what bounds each figure: docs/performance.md.
 *
 * Not part of `npm test` and not run in CI: timings belong here, never in tests.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { renderChart } from './chart.mjs';
import { fmtMs, fmtRatio, percentile, summarize } from './stats.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));

const ROOT = resolve(HERE, '..');

/**
 * Node's start-up variables (NODE_STARTUP_VARS in src/environment.ts) change what Node
 * does before the first line of any script: NODE_EXTRA_CA_CERTS, set on some machines,
 * makes Node 20 parse a certificate bundle at every start (~35 ms here). pidone's
 * launcher holds them aside, a bare `node -e 0` would not, so left in place they would
 * measure the machine, not Node's floor. Every contender runs without them; returns
 * the ones that were set, for the report.
 */
async function removeNodeStartupVars() {
  const module = join(ROOT, 'dist', 'environment.js');
  if (!existsSync(module)) die(`${module} is missing: run 'npm run build' first`);
  const { NODE_STARTUP_VARS } = await import(pathToFileURL(module).href);
  const removed = NODE_STARTUP_VARS.filter((name) => process.env[name] !== undefined);
  for (const name of removed) delete process.env[name];
  return removed;
}

// ---- options ----------------------------------------------------------------------

const HELP = `usage: node bench/run.mjs [--quick] [--idle SECONDS] [--only 1,2,3,4,5,6]
                          [--pidone PATH] [--out DIR] [--reps N]

  --quick        fewer repetitions, 5 s idle, 10,000 reaps for memory (development)
  --idle S       idle window for figures 5 and 6 (default 60, --quick 5)
  --only LIST    run only these figures (1 start-up, 2 time to exec, 3 reap throughput,
                 4 signal latency, 5 idle wake-ups, 6 memory)
  --pidone PATH  the pidone launcher to measure (default bin/pidone of this checkout)
  --out DIR      where results go (default bench/results)
  --reps N       repetitions for figures 1 and 2
  --render JSON  redraw results.md and the chart from a raw results file, run nothing
`;

function parseOptions(argv) {
  const o = { quick: false, idle: undefined, only: [1, 2, 3, 4, 5, 6], pidone: join(ROOT, 'bin', 'pidone'), out: join(HERE, 'results'), reps: undefined, render: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) die(`${a} needs a value\n${HELP}`);
      return argv[++i];
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--idle') o.idle = Number(value());
    else if (a === '--only') o.only = value().split(',').map(Number);
    else if (a === '--pidone') o.pidone = resolve(value());
    else if (a === '--out') o.out = resolve(value());
    else if (a === '--reps') o.reps = Number(value());
    else if (a === '--render') o.render = resolve(value());
    else if (a === '-h' || a === '--help') {
      process.stdout.write(HELP);
      process.exit(0);
    } else die(`unknown option '${a}'\n${HELP}`);
  }
  const q = o.quick;
  return {
    ...o,
    idle: o.idle ?? (q ? 5 : 60),
    startReps: o.reps ?? (q ? 20 : 150),
    reapCount: q ? 2000 : 10000,
    reapReps: q ? 1 : 3,
    signals: q ? 500 : 5000,
    memoryReaps: q ? 10000 : 100000,
  };
}

function die(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(1);
}

function log(message) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

// ---- preconditions ----------------------------------------------------------------

function which(name) {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = join(dir || '.', name);
    if (existsSync(p)) return p;
  }
  return null;
}

function checkTools(opts) {
  if (process.platform !== 'linux') die('the benchmarks need Linux');
  const missing = ['tini', 'dumb-init', 'catatonit'].filter((t) => which(t) === null);
  if (missing.length > 0) {
    die(`missing ${missing.join(', ')}: the benchmarks compare pidone with them. Install: apt-get install tini dumb-init catatonit`);
  }
  if (which('cc') === null) die('missing a C compiler (cc) for the helper programs: apt-get install gcc libc6-dev');
  if (!existsSync(opts.pidone)) die(`no pidone at ${opts.pidone}`);
  const root = resolve(dirname(opts.pidone), '..');
  if (!existsSync(join(root, 'dist', 'pidone.cjs')) || !existsSync(join(root, 'build', 'Release', 'pidone.node'))) {
    die(`pidone is not built in ${root}: run 'npm run install && npm run build' first`);
  }
  const needRoot = opts.only.some((f) => f === 3 || f === 6);
  if (needRoot && (process.getuid?.() !== 0 || which('unshare') === null)) {
    die('figures 3 and 6 run each init as PID 1 of a new PID namespace (unshare --pid --fork --mount-proc): run as root, or pass --only 1,2,4,5');
  }
}

/** The PNG converter: rsvg-convert (Debian librsvg2-bin), installed with apt-get when root. */
function findRsvg() {
  let p = which('rsvg-convert');
  if (p === null && process.getuid?.() === 0 && which('apt-get') !== null) {
    log('rsvg-convert is missing: apt-get install -y librsvg2-bin');
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'librsvg2-bin'], { stdio: ['ignore', 'ignore', 'inherit'] });
    p = which('rsvg-convert');
  }
  return p;
}

/** Compile bench/c/*.c into raw/bin with cc; stamp statically (no loader before main). */
function buildHelpers(binDir) {
  mkdirSync(binDir, { recursive: true });
  const out = {};
  for (const name of ['launch', 'stamp', 'orphans', 'sigbench', 'sigchild']) {
    const src = join(HERE, 'c', `${name}.c`);
    const bin = join(binDir, name);
    const args = ['-O2', '-Wall', '-o', bin, src];
    let r = spawnSync('cc', name === 'stamp' ? ['-static', ...args] : args, { encoding: 'utf8' });
    if (r.status !== 0 && name === 'stamp') r = spawnSync('cc', args, { encoding: 'utf8' });
    if (r.status !== 0) die(`cc ${src} failed:\n${r.stderr}`);
    out[name] = bin;
  }
  return out;
}

// ---- the contenders -----------------------------------------------------------------

/** How each init runs `cmd...` outside a PID namespace (as a subreaper where it can be one). */
function inits(opts) {
  return [
    { name: 'pidone', argv: (cmd) => [opts.pidone, '--', ...cmd] },
    { name: 'tini', argv: (cmd) => ['tini', '-s', '--', ...cmd] },
    { name: 'dumb-init', argv: (cmd) => ['dumb-init', ...cmd] },
    { name: 'catatonit', argv: (cmd) => ['catatonit', '--', ...cmd] },
  ];
}

/** As PID 1 of a new PID namespace. */
function nsInits(opts) {
  const ns = ['unshare', '--pid', '--fork', '--mount-proc'];
  return [
    { name: 'pidone', argv: (cmd) => [...ns, opts.pidone, '--', ...cmd] },
    { name: 'tini', argv: (cmd) => [...ns, 'tini', '--', ...cmd] },
    { name: 'dumb-init', argv: (cmd) => [...ns, 'dumb-init', ...cmd] },
    { name: 'catatonit', argv: (cmd) => [...ns, 'catatonit', '--', ...cmd] },
  ];
}

const NODE_REF = { name: 'node -e 0', argv: () => [process.execPath, '-e', '0'] };

// ---- figures 1 and 2: start-up and time to child exec --------------------------------

function runLaunch(bin, reps, rows) {
  const args = [String(reps)];
  rows.forEach((r, i) => {
    if (i > 0) args.push(';');
    args.push(...r.argv);
  });
  const out = execFileSync(bin.launch, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const wall = rows.map(() => []);
  const exec = rows.map(() => []);
  for (const line of out.trim().split('\n')) {
    const [idx, w, e, status] = line.split(' ').map(Number);
    if (status !== 0) die(`${rows[idx].name} exited with wait status ${status}`);
    wall[idx].push(w / 1e6);
    if (e >= 0) exec[idx].push(e / 1e6);
  }
  return { wall, exec };
}

function figureStartup(opts, bin) {
  log(`figure 1: X -- /bin/true, ${opts.startReps} interleaved runs each`);
  const rows = [NODE_REF, ...inits(opts)].map((r) => ({ name: r.name, argv: r.argv(['/bin/true']) }));
  const { wall } = runLaunch(bin, opts.startReps, rows);
  return rows.map((r, i) => ({ name: r.name, ...summarize(wall[i]) }));
}

function figureExec(opts, bin) {
  log(`figure 2: launch -> child's first instruction, ${opts.startReps} interleaved runs each`);
  const rows = [
    { name: NODE_REF.name, argv: NODE_REF.argv() },
    ...inits(opts).map((r) => ({ name: r.name, argv: r.argv([bin.stamp]) })),
  ];
  const { wall, exec } = runLaunch(bin, opts.startReps, rows);
  // The reference row is the whole life of `node -e 0`: a child exec'ed before that
  // would have ended started sooner than Node alone can start and stop.
  return rows.map((r, i) => ({ name: r.name, ...summarize(i === 0 ? wall[0] : exec[i]) }));
}

// ---- figure 3: reap throughput ---------------------------------------------------------

function figureReap(opts, bin) {
  const rows = nsInits(opts);
  log(`figure 3: ${opts.reapCount} double-forked orphans as PID 1, ${opts.reapReps} interleaved rounds`);
  const total = rows.map(() => []);
  const tail = rows.map(() => []);
  for (let rep = 0; rep < opts.reapReps; rep++) {
    for (let k = 0; k < rows.length; k++) {
      const i = (k + rep) % rows.length;
      const [cmd, ...args] = rows[i].argv([bin.orphans, String(opts.reapCount)]);
      const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      if (r.status !== 0) die(`${rows[i].name}: orphans failed (status ${r.status})`);
      const [t, tl] = r.stdout.trim().split(' ').map(Number);
      total[i].push(t / 1e6);
      tail[i].push(tl / 1e6);
    }
  }
  return rows.map((r, i) => ({ name: r.name, ...summarize(total[i]), tail: summarize(tail[i]), perSecond: opts.reapCount / (percentile(total[i], 50) / 1000) }));
}

// ---- figure 4: signal forwarding latency ---------------------------------------------

function figureSignals(opts, bin) {
  const rows = inits(opts);
  log(`figure 4: ${opts.signals} SIGUSR1 per init, one at a time, interleaved in batches of 100`);
  const args = [String(opts.signals), '100'];
  rows.forEach((r, i) => {
    if (i > 0) args.push(';');
    args.push(...r.argv([bin.sigchild]));
  });
  const out = execFileSync(bin.sigbench, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  const result = rows.map((r) => ({ name: r.name }));
  for (const line of out.trim().split('\n')) {
    const [idx, lost, ...lat] = line.split(' ').map(Number);
    const us = lat.map((ns) => ns / 1000);
    Object.assign(result[idx], summarize(us), { p99: percentile(us, 99), lost, n: us.length });
  }
  return result;
}

// ---- figures 5 and 6: idle wake-ups and memory ----------------------------------------

function tasksOf(pid) {
  try {
    return readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
}

/** Context switches summed over every thread. */
function contextSwitches(pid) {
  let sum = 0;
  for (const tid of tasksOf(pid)) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/status`, 'latin1');
      for (const m of text.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)/gm)) sum += Number(m[1]);
    } catch {
      // The thread ended.
    }
  }
  return sum;
}

function memory(pid) {
  const kb = (text, key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1');
  return {
    vmRss: kb(status, 'VmRSS'),
    privateDirty: kb(rollup, 'Private_Dirty'),
    privateClean: kb(rollup, 'Private_Clean'),
    threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1]),
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function figureIdle(opts) {
  // Every init idles at the same time, so one window serves them all.
  const rows = [
    { name: 'node (idle)', argv: () => [process.execPath, '-e', 'setTimeout(() => {}, 2 ** 31 - 1)'] },
    ...inits(opts),
  ];
  log(`figure 5: context switches over ${opts.idle} s of idleness (after 2 s to settle), all inits at once`);
  const procs = rows.map((r) => {
    const [cmd, ...args] = r.argv(['sleep', '100000']);
    return spawn(cmd, args, { stdio: 'ignore' });
  });
  await sleep(2000);
  const before = procs.map((p) => contextSwitches(p.pid));
  const t0 = performance.now();
  await sleep(opts.idle * 1000);
  const seconds = (performance.now() - t0) / 1000;
  const after = procs.map((p) => contextSwitches(p.pid));
  const mem = procs.map((p) => memory(p.pid));
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r() : p.on('exit', r)))));
  return rows.map((r, i) => ({
    name: r.name,
    switches: after[i] - before[i],
    perMinute: ((after[i] - before[i]) / seconds) * 60,
    seconds,
    memory: mem[i],
  }));
}

/** The host pid of the init that `unshare --fork` started. */
async function childOf(pid) {
  for (let i = 0; i < 200; i++) {
    for (const tid of tasksOf(pid)) {
      try {
        const kids = readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').trim();
        if (kids) return Number(kids.split(' ')[0]);
      } catch {
        // Try again.
      }
    }
    await sleep(10);
  }
  throw new Error(`no child under ${pid}`);
}

function lines(stream) {
  let buf = '';
  const waiting = [];
  const ready = [];
  stream.setEncoding('utf8');
  stream.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (waiting.length) waiting.shift()(line);
      else ready.push(line);
    }
  });
  return () => (ready.length ? Promise.resolve(ready.shift()) : new Promise((r) => waiting.push(r)));
}

async function figureMemory(opts, bin) {
  // All four at once, each as PID 1 of its namespace: memory is not a timing.
  log(`figure 6: memory idle, then after ${opts.memoryReaps} reaps as PID 1 (all inits at once)`);
  const rows = nsInits(opts);
  const runs = await Promise.all(
    rows.map(async (r) => {
      const [cmd, ...args] = r.argv([bin.orphans, String(opts.memoryReaps), 'wait']);
      const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
      const next = lines(proc.stdout);
      if ((await next()) !== 'ready') throw new Error(`${r.name}: orphans not ready`);
      const pid = await childOf(proc.pid);
      return { proc, next, pid };
    }),
  );
  await sleep(3000);
  const before = runs.map((x) => memory(x.pid));
  /** One round of reaps in every init at once; each helper's "total_ns tail_ns". */
  const round = () =>
    Promise.all(
      runs.map(async (x) => {
        x.proc.stdin.write('go\n');
        return (await x.next()).split(' ').map(Number);
      }),
    );
  const results = await round();
  await sleep(3000);
  const after = runs.map((x) => memory(x.pid));
  // A second round of as many: a heap that grew once to its working size (V8 writing
  // through its young generation, the code it compiled) stays put; a leak grows again.
  await round();
  await sleep(3000);
  const afterSecond = runs.map((x) => memory(x.pid));
  for (const x of runs) x.proc.stdin.end();
  await Promise.all(runs.map((x) => new Promise((r) => (x.proc.exitCode !== null ? r() : x.proc.on('exit', r)))));
  return rows.map((r, i) => ({
    name: r.name,
    before: before[i],
    after: after[i],
    afterSecond: afterSecond[i],
    reaps: opts.memoryReaps,
    seconds: results[i][0] / 1e9,
  }));
}

// ---- the report ---------------------------------------------------------------------

function ratio(a, b) {
  return b > 0 ? a / b : NaN;
}

function tableMarkdown(res, opts) {
  const out = [];
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Linux ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}, Node ${process.version}, load average at start ${res.load.map((x) => x.toFixed(2)).join(' ')}`;
  out.push(`Run ${res.when}${opts.quick ? ' (--quick)' : ''}: ${machine}.`, '');
  const removed = res.removedFromEnv ?? [];
  out.push(`Every contender ran without Node's start-up variables${removed.length > 0 ? ` (set on this machine and removed: ${removed.join(', ')})` : ' (none was set)'}.`, '');
  const header = (cols) => [`| ${cols.join(' | ')} |`, `|${cols.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`];
  if (res.fig1) {
    const node = res.fig1[0].median;
    const tini = res.fig1.find((r) => r.name === 'tini').median;
    out.push(`**1. Start-up** (\`X -- /bin/true\`, wall time, ${opts.startReps} interleaved runs; target pidone/node ≤ 1.05)`, '');
    out.push(...header(['', 'median', 'p10', 'p90', '÷ node -e 0', '÷ tini']));
    for (const r of res.fig1) out.push(`| ${r.name} | ${fmtMs(r.median)} | ${fmtMs(r.p10)} | ${fmtMs(r.p90)} | ${fmtRatio(ratio(r.median, node))} | ${fmtRatio(ratio(r.median, tini))} |`);
    out.push('');
  }
  if (res.fig2) {
    const node = res.fig2[0].median;
    out.push(`**2. Time to child exec** (launch of X to the child's first instruction; the node row is \`node -e 0\`'s whole life; target ≤ 0.95)`, '');
    out.push(...header(['', 'median', 'p10', 'p90', '÷ node -e 0']));
    for (const r of res.fig2) out.push(`| ${r.name} | ${fmtMs(r.median)} | ${fmtMs(r.p10)} | ${fmtMs(r.p90)} | ${fmtRatio(ratio(r.median, node))} |`);
    out.push('');
  }
  if (res.fig3) {
    const tini = res.fig3.find((r) => r.name === 'tini').median;
    out.push(`**3. Reap throughput** (${opts.reapCount} double-forked orphans as PID 1, time until 0 zombies, ${opts.reapReps} interleaved rounds; target ≤ 1.0)`, '');
    out.push(...header(['', 'median', 'p10', 'p90', 'orphans/s', 'tail median', '÷ tini']));
    for (const r of res.fig3) out.push(`| ${r.name} | ${fmtMs(r.median)} | ${fmtMs(r.p10)} | ${fmtMs(r.p90)} | ${Math.round(r.perSecond)} | ${fmtMs(r.tail.median)} | ${fmtRatio(ratio(r.median, tini))} |`);
    out.push('', '*tail*: from the last fork to 0 zombies.', '');
  }
  if (res.fig4) {
    const tini = res.fig4.find((r) => r.name === 'tini');
    out.push(`**4. Signal forwarding latency** (${opts.signals} SIGUSR1 each, sent to X one at a time, until the child's handler runs; µs; target p99 ≤ 1 ms and ≤ 2 × tini)`, '');
    out.push(...header(['', 'p50', 'p10', 'p90', 'p99', 'lost', 'p50 ÷ tini', 'p99 ÷ tini']));
    for (const r of res.fig4) out.push(`| ${r.name} | ${r.median.toFixed(1)} | ${r.p10.toFixed(1)} | ${r.p90.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.lost} | ${fmtRatio(ratio(r.median, tini.median))} | ${fmtRatio(ratio(r.p99, tini.p99))} |`);
    out.push('');
  }
  if (res.fig5) {
    out.push(`**5. Idle wake-ups** (context switches summed over all threads, ${res.fig5[0].seconds.toFixed(0)} s of idleness after 2 s to settle; target 0)`, '');
    out.push(...header(['', 'switches', 'per minute', 'threads']));
    for (const r of res.fig5) out.push(`| ${r.name} | ${r.switches} | ${r.perMinute.toFixed(1)} | ${r.memory.threads} |`);
    out.push('');
  }
  if (res.fig6) {
    const mb = (kb) => (kb / 1024).toFixed(2);
    const sign = (kb) => `${kb >= 0 ? '+' : '−'}${mb(Math.abs(kb))}`;
    out.push(`**6. Memory** (MB, as PID 1; idle, then after ${res.fig6[0].reaps.toLocaleString('en')} reaps; targets Private_Dirty idle ≤ 8 MB, growth < 1 MB)`, '');
    out.push(...header(['', 'VmRSS idle', 'Private_Dirty idle', 'Private_Clean idle', 'threads', 'VmRSS after', 'Private_Dirty after', 'growth VmRSS', 'growth Private_Dirty', 'growth Private_Dirty, 2nd round']));
    for (const r of res.fig6) {
      const second = r.afterSecond ? sign(r.afterSecond.privateDirty - r.after.privateDirty) : 'n/a';
      out.push(
        `| ${r.name} | ${mb(r.before.vmRss)} | ${mb(r.before.privateDirty)} | ${mb(r.before.privateClean)} | ${r.before.threads} | ${mb(r.after.vmRss)} | ${mb(r.after.privateDirty)} | ${sign(r.after.vmRss - r.before.vmRss)} | ${sign(r.after.privateDirty - r.before.privateDirty)} | ${second} |`,
      );
    }
    out.push('', '*2nd round*: a second round of as many reaps, growth from the first round\'s reading.');
    out.push('', 'Private_Clean is mostly the node binary\'s own pages, shared (and then not counted here) when another node runs.', '');
  }
  return out.join('\n');
}

// ---- main ---------------------------------------------------------------------------

async function mainBench() {
  let opts = parseOptions(process.argv.slice(2));
  let res;
  if (opts.render !== undefined) {
    res = JSON.parse(readFileSync(opts.render, 'utf8'));
    opts = { ...opts, ...res.opts };
  } else {
    checkTools(opts);
    const raw = join(opts.out, 'raw');
    const bin = buildHelpers(join(raw, 'bin'));
    res = { when: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC', load: loadavg(), pidone: opts.pidone, removedFromEnv: await removeNodeStartupVars() };
    res.opts = { quick: opts.quick, startReps: opts.startReps, reapCount: opts.reapCount, reapReps: opts.reapReps, signals: opts.signals, memoryReaps: opts.memoryReaps, idle: opts.idle };
    const t0 = performance.now();
    const want = new Set(opts.only);
    if (want.has(1)) res.fig1 = figureStartup(opts, bin);
    if (want.has(2)) res.fig2 = figureExec(opts, bin);
    if (want.has(4)) res.fig4 = figureSignals(opts, bin);
    if (want.has(3)) res.fig3 = figureReap(opts, bin);
    if (want.has(6)) res.fig6 = await figureMemory(opts, bin);
    if (want.has(5)) res.fig5 = await figureIdle(opts);
    res.seconds = (performance.now() - t0) / 1000;
    mkdirSync(raw, { recursive: true });
    writeFileSync(join(raw, `results-${res.when.replace(/[ :]/g, '-')}.json`), JSON.stringify(res, null, 1));
  }
  const md = tableMarkdown(res, opts);
  writeFileSync(join(opts.out, 'results.md'), `${md}\n`);
  const svg = renderChart(res, opts);
  const svgPath = join(opts.out, 'chart.svg');
  writeFileSync(svgPath, svg);
  const rsvg = findRsvg();
  if (rsvg !== null) {
    execFileSync(rsvg, ['-b', 'white', '-o', join(opts.out, 'chart.png'), svgPath]);
  } else {
    log('no rsvg-convert (apt-get install librsvg2-bin): wrote the SVG only');
  }
  process.stdout.write(`${md}\n`);
  log(`done${opts.render ? '' : ` in ${res.seconds.toFixed(0)} s`}: ${join(opts.out, 'results.md')}, ${join(opts.out, 'chart.png')}`);
}

await mainBench();
