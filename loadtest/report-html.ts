/**
 * The HTML report: one self-contained file (inline CSS and SVG, no scripts,
 * no external assets), thresholds and verdict first, then throughput,
 * latency, sessions and CPU over time, then the steps table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Report } from './report-json.js';
import type { Second } from './timeline.js';

const esc = (s: unknown): string =>
  String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

interface Series {
  readonly label: string;
  readonly color: string;
  readonly value: (s: Second) => number | null;
}

const W = 860;
const H = 220;
const PAD = { l: 56, r: 12, t: 14, b: 28 };

function chart(title: string, unit: string, seconds: readonly Second[], series: readonly Series[]): string {
  const values = seconds.flatMap((s) => series.map((x) => x.value(s))).filter((v): v is number => v !== null);
  if (values.length === 0) return '';
  const maxT = Math.max(1, seconds.length - 1);
  const maxV = niceCeil(Math.max(1, ...values));
  const x = (t: number): number => PAD.l + (t / maxT) * (W - PAD.l - PAD.r);
  const y = (v: number): number => H - PAD.b - (v / maxV) * (H - PAD.t - PAD.b);
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => {
      const v = maxV * f;
      return `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v)}" y2="${y(v)}" class="g"/><text x="${PAD.l - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`;
    })
    .join('');
  const ticks = Array.from({ length: 6 }, (_, i) => Math.round((maxT * i) / 5))
    .map((t) => `<text x="${x(t)}" y="${H - 8}" text-anchor="middle">${t}s</text>`)
    .join('');
  const lines = series
    .map((s) => {
      let d = '';
      let pen = false;
      for (const sec of seconds) {
        const v = s.value(sec);
        if (v === null) {
          pen = false;
          continue;
        }
        d += `${pen ? 'L' : 'M'}${x(sec.t).toFixed(1)},${y(v).toFixed(1)}`;
        pen = true;
      }
      return d === '' ? '' : `<path d="${d}" stroke="${s.color}" fill="none" stroke-width="1.5"/>`;
    })
    .join('');
  const legend = series.map((s) => `<span style="color:${s.color}">■ ${esc(s.label)}</span>`).join(' ');
  return `<h3>${esc(title)} <small>(${esc(unit)})</small></h3><div class="legend">${legend}</div>
<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">${grid}${ticks}${lines}</svg>`;
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

const fmt = (v: number): string =>
  v >= 1000 ? `${Math.round(v / 100) / 10}k` : String(Math.round(v * 10) / 10);

function table(head: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</table>`;
}

export function renderHtml(r: Report): string {
  const sec = r.timeline;
  const thresholds = table(
    ['', 'threshold', 'value', 'limit'],
    r.thresholds.map((t) => [t.pass ? '✔' : '✘', t.name, t.value, t.limit]),
  );
  const steps = table(
    ['step', 'target/s', 'ok/s', 'p50', 'p90', 'p95', 'p99', 'p99.9', '503', 'errors', 'pass'],
    r.steps.map((s) => [
      s.name,
      s.targetRate,
      s.goodput,
      s.latencyMs.p50,
      s.latencyMs.p90,
      s.latencyMs.p95,
      s.latencyMs.p99,
      s.latencyMs.p999,
      s.counts.overloaded,
      s.counts.otherStatus + s.counts.errors + s.counts.timeouts + s.counts.starved,
      s.pass === null ? '' : s.pass ? 'yes' : 'no',
    ]),
  );
  const kv = (o: Record<string, unknown> | null): string =>
    o === null ? '<p>none</p>' : `<pre>${esc(JSON.stringify(o, null, 2))}</pre>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>saylau loadtest ${esc(r.scenario)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:940px;color:#222}
.pass{color:#176317}.fail{color:#b00020}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}svg text{font-size:11px;fill:#555}.g{stroke:#e4e4e4}.legend{font-size:12px}pre{background:#f7f7f7;padding:8px;overflow:auto;font-size:12px}</style>
</head><body>
<h1>saylau loadtest: ${esc(r.scenario)} — <span class="${r.verdict}">${r.verdict.toUpperCase()}</span></h1>
<p>run ${esc(r.runId)}, ${esc(r.takenAt)}, ${r.durationSec} s; ${r.machine.cpus} × ${esc(r.machine.model)}, ${r.machine.memGiB} GiB, Node ${esc(r.machine.node)}</p>
<h2>Thresholds</h2>${thresholds}
${r.generator.warning === null ? '' : `<p class="fail">${esc(r.generator.warning)}</p>`}
<p>Generator CPU: ${r.generator.cpuPctOfMachine}% of the machine.</p>
<h2>Over time</h2>
${chart('Throughput', 'requests/s', sec, [
  { label: 'offered', color: '#999', value: (s) => (s.offered > 0 ? s.offered : null) },
  { label: '2xx', color: '#1565c0', value: (s) => s.ok },
  { label: '503 overloaded', color: '#ef6c00', value: (s) => s.overloaded },
  { label: 'failed', color: '#b00020', value: (s) => s.failed },
])}
${chart('Latency of 2xx (coordinated-omission corrected)', 'ms', sec, [
  { label: 'p50', color: '#2e7d32', value: (s) => s.p50 },
  { label: 'p99', color: '#6a1b9a', value: (s) => s.p99 },
])}
${chart('Sessions open', 'sessions', sec, [{ label: 'open sessions', color: '#00838f', value: (s) => s.sessions }])}
${chart('CPU', '% of one core; the machine has cores × 100 %', sec, [
  { label: 'machine', color: '#999', value: (s) => s.machineCpuPct },
  { label: 'ingest', color: '#1565c0', value: (s) => s.ingestCpuPct },
  { label: 'generator', color: '#b00020', value: (s) => s.generatorCpuPct },
])}
<h2>Steps</h2>${steps}
<h2>Summary</h2>${kv(r.summary)}
<h2>Correctness</h2>${kv(r.correctness)}
<h2>Baselines and ratios</h2>${kv(r.baselines)}${kv(r.ratios)}
<h2>Setup</h2>${kv(r.setup)}
<h2>Notes</h2><ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>
</body></html>
`;
}

export function writeHtml(path: string, report: Report): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, renderHtml(report));
}
