/**
 * The insider report: JSON (everything), a self-contained HTML page (the
 * verdicts, chance and success by clock and phase, the scans), and the
 * lines printed at the end. Counts and rates only: never a voter next to a
 * ballot.
 */
import { writeFileSync } from 'node:fs';
import { esc as escapeHtml } from '../report-svg.js';
import type { InsiderReport } from './run.js';

const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;

export function writeInsiderJson(path: string, report: InsiderReport): void {
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}

export function printInsiderVerdict(report: InsiderReport, out: (text: string) => void): void {
  const a = report.anonymity;
  out(
    `anonymity sets |A| (k=${report.promise.k}, T=${report.promise.tMs} ms per ${report.promise.scope}): ` +
      `chance ${pct(a.all?.chance ?? 0)}; peak median ${a.peak?.median} (chance ${pct(a.peak?.chance ?? 0)}), ` +
      `off-peak median ${a['off-peak']?.median} (chance ${pct(a['off-peak']?.chance ?? 0)})\n`,
  );
  for (const v of report.attacks) {
    const clocks = Object.entries(v.byClock)
      .map(([c, r]) => `${c} ${pct(r.success)}`)
      .join(', ');
    out(
      `${v.pass ? 'PASS' : 'FAIL'} ${v.id}: success ${pct(v.success)} (${v.bestClock}) vs chance ${pct(v.chance)} + margin ${pct(v.margin)} — by clock: ${clocks}\n`,
    );
  }
  for (const s of report.scans) {
    const where = Object.entries(s.bySource)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    out(
      `${s.pass ? 'PASS' : 'FAIL'} scan ${s.id}: ${s.what}${s.pass ? '' : ` — found in ${where}; e.g. ${s.examples.slice(0, 3).join(' | ')}`}\n`,
    );
  }
  out(`verdict: ${report.verdict.toUpperCase()} (${report.durationSec} s)\n`);
}

export function writeInsiderHtml(path: string, report: InsiderReport): void {
  const row = (cells: readonly string[], tag = 'td'): string =>
    `<tr>${cells.map((c) => `<${tag}>${c}</${tag}>`).join('')}</tr>`;
  const attackRows = report.attacks.flatMap((v) =>
    Object.entries(v.byClock).map(([clock, r]) =>
      row([
        escapeHtml(v.id),
        escapeHtml(clock),
        pct(r.success),
        pct(v.chance),
        pct(v.margin),
        String(r.unknown),
        `${r.delayMs} ms`,
      ]),
    ),
  );
  const phaseRows = report.attacks.flatMap((v) =>
    Object.entries(v.byPhase).map(([phase, p]) =>
      row([escapeHtml(v.id), escapeHtml(phase), String(p.targets), pct(p.success), pct(p.chance)]),
    ),
  );
  const sizeRows = Object.entries(report.anonymity).map(([phase, s]) =>
    row([
      escapeHtml(phase),
      String(s.targets),
      pct(s.chance),
      String(s.p10),
      String(s.median),
      String(s.p90),
      String(s.alone),
    ]),
  );
  const verdictRows = [
    ...report.attacks.map((v) =>
      row([
        v.pass ? 'PASS' : 'FAIL',
        escapeHtml(v.id),
        `success ${pct(v.success)} (${escapeHtml(v.bestClock)}) ≤ chance ${pct(v.chance)} + ${pct(v.margin)}`,
      ]),
    ),
    ...report.scans.map((s) =>
      row([
        s.pass ? 'PASS' : 'FAIL',
        `scan ${escapeHtml(s.id)}`,
        escapeHtml(`${s.what}${s.pass ? '' : ` — ${JSON.stringify(s.bySource)}; ${s.examples.join(' | ')}`}`),
      ]),
    ),
  ];
  const html = `<!doctype html><html lang="en"><meta charset="utf-8"><title>insider ${escapeHtml(report.runId)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}</style>
<h1>Insider attack: ${report.verdict.toUpperCase()}</h1>
<p>${escapeHtml(report.runId)}, seed ${report.seed}, ${escapeHtml(report.takenAt)}, ${report.durationSec} s. ${report.voters.arrived} voters
(${report.voters.targets} targets) in the ${escapeHtml(report.election.template)} election (${report.election.regions} regions, ${report.election.districts} districts);
think time log-normal, median ${report.options.thinkMedianMs} ms, σ ${report.options.thinkSigma}. Promise: k = ${report.promise.k}, T = ${report.promise.tMs} ms per ${escapeHtml(report.promise.scope)}.</p>
<h2>Verdicts</h2><table>${verdictRows.join('')}</table>
<h2>Anonymity sets (from the ground truth and the promise)</h2>
<table>${row(['phase', 'targets', 'chance (mean 1/|A|)', '|A| p10', 'median', 'p90', 'alone'], 'th')}${sizeRows.join('')}</table>
<h2>Attack success by clock</h2>
<table>${row(['insider', 'clock', 'success', 'chance', 'margin', 'no estimate', 'delay'], 'th')}${attackRows.join('')}</table>
<h2>By phase (best clock)</h2>
<table>${row(['insider', 'phase', 'targets', 'success', 'chance'], 'th')}${phaseRows.join('')}</table>
<h2>Observed</h2><pre>${escapeHtml(JSON.stringify(report.observed, null, 2))}</pre>
${report.notes.length > 0 ? `<h2>Notes</h2><ul>${report.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : ''}
</html>
`;
  writeFileSync(path, html);
}
