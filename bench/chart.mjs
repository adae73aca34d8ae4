/**
 * The bench's chart, drawn by hand as SVG (no plotting library: six small bar panels
 * do not need one) and turned into a PNG by rsvg-convert (Debian librsvg2-bin).
 * Each panel: one bar per init at the median, a whisker from p10 to p90, the value at
 * the bar's end, and the target as a dashed line where there is one.
 */
const W = 1200;
const PANEL_W = 580;
const PANEL_H = 230;
const GAP = 20;
const LABEL_W = 110;
const COLORS = { pidone: '#d9480f', tini: '#1c7ed6', 'dumb-init': '#37b24d', catatonit: '#7048e8' };
const REF_COLOR = '#868e96';

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const color = (name) => COLORS[name] ?? REF_COLOR;

function niceMax(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

/** rows: [{ name, value, lo?, hi?, extra?, label }], scale 'log' | 'linear'. */
function panel(x, y, { title, unit, rows, scale = 'linear', target, note, series }) {
  const out = [];
  const plotX = x + LABEL_W;
  const plotW = PANEL_W - LABEL_W - 175;
  const top = y + 58;
  const bottom = y + PANEL_H - 30;
  const rowH = (bottom - top) / Math.max(rows.length, 1);
  const values = rows.flatMap((r) => [r.value, r.hi ?? r.value, r.extra ?? 0]).concat(target ? [target.value] : []).filter((v) => v > 0);
  const maxV = niceMax(Math.max(...values, 1e-9) * 1.05);
  let minV = 0;
  let pos;
  if (scale === 'log') {
    minV = 10 ** Math.floor(Math.log10(Math.min(...values)));
    const lmin = Math.log10(minV);
    const lmax = Math.log10(maxV);
    pos = (v) => plotX + (Math.max(Math.log10(Math.max(v, minV)) - lmin, 0) / (lmax - lmin)) * plotW;
  } else {
    pos = (v) => plotX + (v / maxV) * plotW;
  }
  out.push(`<rect x="${x}" y="${y}" width="${PANEL_W}" height="${PANEL_H}" fill="#fff" stroke="#dee2e6"/>`);
  out.push(`<text x="${x + 10}" y="${y + 20}" font-size="14" font-weight="bold">${esc(title)}</text>`);
  if (note) out.push(`<text x="${x + 10}" y="${y + 36}" font-size="11" fill="#495057">${esc(note)}</text>`);
  // Grid and axis labels.
  const ticks = [];
  if (scale === 'log') {
    for (let v = minV; v <= maxV * 1.0001; v *= 10) ticks.push(v);
  } else {
    for (let i = 0; i <= 4; i++) ticks.push((maxV / 4) * i);
  }
  for (const t of ticks) {
    const tx = pos(t);
    out.push(`<line x1="${tx}" y1="${top}" x2="${tx}" y2="${bottom}" stroke="#f1f3f5"/>`);
    out.push(`<text x="${tx}" y="${bottom + 14}" font-size="10" text-anchor="middle" fill="#495057">${esc(fmt(t))}</text>`);
  }
  out.push(`<text x="${plotX + plotW}" y="${bottom + 26}" font-size="10" text-anchor="end" fill="#495057">${esc(unit)}${scale === 'log' ? ' (log scale)' : ''}</text>`);
  rows.forEach((r, i) => {
    const cy = top + rowH * i + rowH / 2;
    const bh = Math.min(rowH * 0.6, 22);
    out.push(`<text x="${plotX - 6}" y="${cy + 4}" font-size="12" text-anchor="end">${esc(r.name)}</text>`);
    const x0 = pos(scale === 'log' ? minV : 0);
    if (series && r.extra !== undefined) {
      const h2 = bh / 2;
      out.push(`<rect x="${x0}" y="${cy - h2}" width="${Math.max(pos(r.value) - x0, 1)}" height="${h2}" fill="${color(r.name)}"/>`);
      out.push(`<rect x="${x0}" y="${cy}" width="${Math.max(pos(r.extra) - x0, 1)}" height="${h2}" fill="${color(r.name)}" fill-opacity="0.45"/>`);
      out.push(`<text x="${Math.max(pos(r.value), pos(r.extra)) + 4}" y="${cy + 4}" font-size="11">${esc(r.label)}</text>`);
      return;
    }
    out.push(`<rect x="${x0}" y="${cy - bh / 2}" width="${Math.max(pos(r.value) - x0, 1)}" height="${bh}" fill="${color(r.name)}" fill-opacity="0.85"/>`);
    if (r.lo !== undefined && r.hi !== undefined) {
      const a = pos(r.lo);
      const b = pos(r.hi);
      out.push(`<line x1="${a}" y1="${cy}" x2="${b}" y2="${cy}" stroke="#212529" stroke-width="1.2"/>`);
      out.push(`<line x1="${a}" y1="${cy - 5}" x2="${a}" y2="${cy + 5}" stroke="#212529" stroke-width="1.2"/>`);
      out.push(`<line x1="${b}" y1="${cy - 5}" x2="${b}" y2="${cy + 5}" stroke="#212529" stroke-width="1.2"/>`);
    }
    if (r.dot !== undefined) out.push(`<circle cx="${pos(r.dot)}" cy="${cy}" r="3.5" fill="#212529"/>`);
    const lx = Math.max(pos(r.value), r.hi !== undefined ? pos(r.hi) : 0, r.dot !== undefined ? pos(r.dot) : 0) + 5;
    out.push(`<text x="${lx}" y="${cy + 4}" font-size="11">${esc(r.label)}</text>`);
  });
  if (target) {
    const tx = pos(target.value);
    out.push(`<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${bottom}" stroke="#c92a2a" stroke-dasharray="5,4" stroke-width="1.5"/>`);
    out.push(`<text x="${tx}" y="${top - 7}" font-size="10" text-anchor="middle" fill="#c92a2a">${esc(target.label)}</text>`);
  }
  return out.join('\n');
}

function fmt(v) {
  if (v === 0) return '0';
  if (v >= 1000) return `${+(v / 1000).toFixed(1)}k`;
  if (v >= 10) return `${+v.toFixed(0)}`;
  if (v >= 1) return `${+v.toFixed(1)}`;
  return `${+v.toPrecision(2)}`;
}

const ms = (v) => (v >= 10 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`);

export function renderChart(res, opts) {
  const panels = [];
  if (res.fig1) {
    const node = res.fig1[0].median;
    panels.push({
      title: '1. Start-up: X -- /bin/true',
      note: `wall time, median and p10–p90 of ${opts.startReps} interleaved runs`,
      unit: 'ms',
      scale: 'log',
      rows: res.fig1.map((r) => ({ name: r.name, value: r.median, lo: r.p10, hi: r.p90, label: `${ms(r.median)} (${(r.median / node).toFixed(2)}× node)` })),
      target: { value: node * 1.05, label: 'target 1.05× node' },
    });
  }
  if (res.fig2) {
    const node = res.fig2[0].median;
    panels.push({
      title: "2. Time to the child's first instruction",
      note: 'node -e 0 row: its whole life (the reference)',
      unit: 'ms',
      scale: 'log',
      rows: res.fig2.map((r) => ({ name: r.name, value: r.median, lo: r.p10, hi: r.p90, label: `${ms(r.median)} (${(r.median / node).toFixed(2)}×)` })),
      target: { value: node * 0.95, label: 'target 0.95× node' },
    });
  }
  if (res.fig3) {
    const tini = res.fig3.find((r) => r.name === 'tini').median;
    panels.push({
      title: `3. Reaping ${opts.reapCount.toLocaleString('en')} double-forked orphans as PID 1`,
      note: 'time until 0 zombies, median and p10–p90',
      unit: 's',
      rows: res.fig3.map((r) => ({ name: r.name, value: r.median / 1000, lo: r.p10 / 1000, hi: r.p90 / 1000, label: `${(r.median / 1000).toFixed(2)} s (${(r.median / tini).toFixed(2)}× tini)` })),
      target: { value: tini / 1000, label: '= tini' },
    });
  }
  if (res.fig4) {
    panels.push({
      title: '4. Signal forwarding latency',
      note: `p50 bar, p10–p90 whisker, p99 dot; ${opts.signals.toLocaleString('en')} signals each`,
      unit: 'µs',
      scale: 'log',
      rows: res.fig4.map((r) => ({ name: r.name, value: r.median, lo: r.p10, hi: r.p90, dot: r.p99, label: `p50 ${r.median.toFixed(0)} / p99 ${r.p99.toFixed(0)} µs` })),
      target: { value: 1000, label: 'p99 target 1 ms' },
    });
  }
  if (res.fig5) {
    panels.push({
      title: `5. Idle wake-ups (${res.fig5[0].seconds.toFixed(0)} s window)`,
      note: 'context switches per minute, all threads',
      unit: 'per minute',
      rows: res.fig5.map((r) => ({ name: r.name, value: r.perMinute, label: `${r.perMinute.toFixed(1)}/min, ${r.memory.threads} thr` })),
    });
  }
  if (res.fig6) {
    panels.push({
      title: '6. Private_Dirty as PID 1',
      note: `dark: idle; light: after ${res.fig6[0].reaps.toLocaleString('en')} reaps`,
      unit: 'MB',
      series: true,
      rows: res.fig6.map((r) => ({
        name: r.name,
        value: r.before.privateDirty / 1024,
        extra: r.after.privateDirty / 1024,
        label: `${(r.before.privateDirty / 1024).toFixed(1)} → ${(r.after.privateDirty / 1024).toFixed(1)} MB`,
      })),
      target: { value: 8, label: 'target 8 MB' },
    });
  }
  const rowsOfPanels = Math.ceil(panels.length / 2);
  const H = 60 + rowsOfPanels * (PANEL_H + GAP);
  const body = panels.map((p, i) => panel(GAP + (i % 2) * (PANEL_W + GAP), 50 + Math.floor(i / 2) * (PANEL_H + GAP), p));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, sans-serif">
<rect width="${W}" height="${H}" fill="#f8f9fa"/>
<text x="${GAP}" y="32" font-size="18" font-weight="bold">pidone vs tini, dumb-init, catatonit and bare Node</text>
<text x="${W - GAP}" y="32" font-size="11" text-anchor="end" fill="#495057">${esc(res.when)}${opts.quick ? ' (--quick)' : ''}; bench/run.mjs</text>
${body.join('\n')}
</svg>
`;
}
