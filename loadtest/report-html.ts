/**
 * The HTML report: one self-contained file (inline CSS and SVG, no scripts,
 * no external assets), thresholds and verdict first, then throughput,
 * latency, sessions and CPU over time, then the steps table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Report } from './report-json.js';
import { esc, lineChart, REPORT_CSS, table } from './report-svg.js';

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
<style>${REPORT_CSS}</style>
</head><body>
<h1>saylau loadtest: ${esc(r.scenario)} — <span class="${r.verdict}">${r.verdict.toUpperCase()}</span></h1>
<p>run ${esc(r.runId)}, ${esc(r.takenAt)}, ${r.durationSec} s; ${r.machine.cpus} × ${esc(r.machine.model)}, ${r.machine.memGiB} GiB, Node ${esc(r.machine.node)}</p>
<h2>Thresholds</h2>${thresholds}
${r.generator.warning === null ? '' : `<p class="fail">${esc(r.generator.warning)}</p>`}
<p>Generator CPU: ${r.generator.cpuPctOfMachine}% of the machine.</p>
<h2>Over time</h2>
${lineChart('Throughput', 'requests/s', sec, [
  { label: 'offered', color: '#999', value: (s) => (s.offered > 0 ? s.offered : null) },
  { label: '2xx', color: '#1565c0', value: (s) => s.ok },
  { label: '503 overloaded', color: '#ef6c00', value: (s) => s.overloaded },
  { label: 'failed', color: '#b00020', value: (s) => s.failed },
])}
${lineChart('Latency of 2xx (coordinated-omission corrected)', 'ms', sec, [
  { label: 'p50', color: '#2e7d32', value: (s) => s.p50 },
  { label: 'p99', color: '#6a1b9a', value: (s) => s.p99 },
])}
${lineChart('Sessions open', 'sessions', sec, [{ label: 'open sessions', color: '#00838f', value: (s) => s.sessions }])}
${lineChart('CPU', '% of one core; the machine has cores × 100 %', sec, [
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
