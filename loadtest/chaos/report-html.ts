/**
 * The chaos report as one self-contained HTML file (inline CSS and SVG, no
 * scripts), in the load-test reports' style (`../report-svg.ts`): verdicts
 * first, then throughput and latency with every fault shaded, the fault
 * timeline under them on the same time axis, the faults table with recovery
 * times, answers, and the details.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Band, CHART, esc, lineChart, REPORT_CSS, table, timeTicks, xAt } from '../report-svg.js';
import { FAULTS, type Lane } from './faults.js';
import type { ChaosReport, FaultReport } from './report.js';

const LANE_COLORS: Record<Lane, string> = {
  ingest: '#1565c0',
  kafka: '#b00020',
  redis: '#ef6c00',
  clickhouse: '#6a1b9a',
  publisher: '#2e7d32',
};
const LANES: readonly Lane[] = ['ingest', 'kafka', 'redis', 'clickhouse', 'publisher'];
const ROW = 22;

const ran = (f: FaultReport): f is FaultReport & { startSec: number } => f.startSec !== null;

/** One row per component, a bar per fault: dark while injected, light while healing; operator actions as ▲. */
function faultLanes(r: ChaosReport, maxT: number): string {
  const { W, PAD } = CHART;
  const rows = [...LANES, 'operator'] as const;
  const h = PAD.t + rows.length * ROW + PAD.b;
  const y = (i: number): number => PAD.t + i * ROW;
  const labels = rows
    .map(
      (lane, i) =>
        `<text x="${PAD.l - 4}" y="${y(i) + 15}" text-anchor="end" style="font-size:9px">${lane === 'clickhouse' ? 'ClickH.' : lane}</text>`,
    )
    .join('');
  const grid = rows
    .map((_, i) => `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(i) + ROW}" y2="${y(i) + ROW}" class="g"/>`)
    .join('');
  const bars = r.faults
    .filter(ran)
    .map((f) => {
      const lane = FAULTS[f.kind].lane;
      const color = LANE_COLORS[lane];
      const row = rows.indexOf(lane);
      const x0 = xAt(f.startSec, maxT);
      const xh = xAt(f.healSec ?? f.endSec ?? f.startSec, maxT);
      const x1 = xAt(f.endSec ?? f.healSec ?? f.startSec, maxT);
      const title = `<title>${esc(`#${f.n} ${f.kind} → ${f.target}: ${f.startSec}–${f.endSec ?? '?'} s`)}</title>`;
      return (
        `<rect x="${x0.toFixed(1)}" y="${y(row) + 3}" width="${Math.max(2, xh - x0).toFixed(1)}" height="${ROW - 6}" fill="${color}">${title}</rect>` +
        `<rect x="${xh.toFixed(1)}" y="${y(row) + 3}" width="${Math.max(0, x1 - xh).toFixed(1)}" height="${ROW - 6}" fill="${color}" opacity="0.35">${title}</rect>` +
        `<text x="${(x0 + 2).toFixed(1)}" y="${y(row) - 1 + ROW / 2 + 4}" style="fill:#fff;font-size:9px">${f.n}</text>`
      );
    })
    .join('');
  const ops = r.operatorActions
    .map((a) => {
      const x = xAt(a.atSec, maxT);
      const top = y(rows.length - 1) + 4;
      return `<path d="M${x.toFixed(1)},${top} l6,12 h-12 z" fill="#b00020"><title>${esc(a.action)}</title></path>`;
    })
    .join('');
  return `<h3>Faults <small>(dark: injected; light: healing; numbers as in the table)</small></h3>
<svg viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img" aria-label="fault timeline">${grid}${labels}${bars}${ops}${timeTicks(maxT, h)}</svg>`;
}

const fmtSec = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : String(v));

export function renderChaosHtml(r: ChaosReport): string {
  const sec = r.timeline;
  const maxT = Math.max(1, sec.length - 1);
  const bands: Band[] = r.faults.filter(ran).map((f) => ({
    from: f.startSec,
    to: f.endSec ?? f.startSec,
    color: `${LANE_COLORS[FAULTS[f.kind].lane]}22`,
  }));
  const verdicts = table(
    ['', 'id', 'what is proven', 'sets', 'violations'],
    r.verdicts.map((v) => [
      v.pass ? '✔' : '✘',
      v.id,
      v.name,
      Object.entries(v.sets)
        .map(([k, n]) => `${k} ${n}`)
        .join(', '),
      Object.entries(v.violations)
        .map(([k, l]) => `${k}: ${l.count}`)
        .join(', ') + (v.notes.length > 0 ? ` (${v.notes.join('; ')})` : ''),
    ]),
  );
  const faults = table(
    [
      '#',
      'kind',
      'target',
      'start s',
      'heal s',
      'end s',
      'heal ms',
      'back after heal s',
      'degraded s',
      'refused',
      'unknown',
      'notes',
    ],
    r.faults.map((f) => [
      f.n,
      f.kind,
      f.target,
      fmtSec(f.startSec),
      fmtSec(f.healSec),
      fmtSec(f.endSec),
      fmtSec(f.healMs),
      fmtSec(f.recovery?.recoverySec),
      fmtSec(f.recovery?.degradedSec),
      fmtSec(f.recovery?.refused),
      fmtSec(f.recovery?.unknown),
      [
        ...f.notes,
        f.skipped === null ? '' : `skipped: ${f.skipped}`,
        f.error === null ? '' : `error: ${f.error}`,
      ]
        .filter(Boolean)
        .join('; '),
    ]),
  );
  const o = r.outcomes;
  const outcomes = table(
    ['request', 'ok', 'refused', 'unknown'],
    (['login', 'issue', 'cast'] as const).map((k) => [k, o[k].ok, o[k].refused, o[k].unknown]),
  );
  const answers = table(
    ['answer (kind status code)', 'count'],
    Object.entries(r.answers).sort((a, b) => b[1] - a[1]),
  );
  const violations = r.verdicts
    .filter((v) => !v.pass)
    .map(
      (v) =>
        `<h3>${esc(v.id)}: ${esc(v.name)}</h3>${Object.entries(v.violations)
          .map(
            ([k, l]) =>
              `<p><b>${esc(k)}</b> (${l.count}): <code>${esc(l.ids.slice(0, 50).join(' '))}</code>${l.count > 50 ? ' …' : ''}</p>`,
          )
          .join('')}`,
    )
    .join('');
  const kv = (x: unknown): string => `<pre>${esc(JSON.stringify(x, null, 2))}</pre>`;
  const opts = { maxT, bands };
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>saylau chaos ${esc(r.runId)}</title>
<style>${REPORT_CSS}
table.l td{text-align:left}code{font-size:11px;word-break:break-all}</style>
</head><body>
<h1>saylau fault harness${r.options.short ? ' (short)' : ''} — <span class="${r.verdict}">${r.verdict.toUpperCase()}</span></h1>
<p>run ${esc(r.runId)}, seed ${r.seed}, ${esc(r.takenAt)}, ${r.durationSec} s; ${r.machine.cpus} × ${esc(r.machine.model)}, ${r.machine.memGiB} GiB, Node ${esc(r.machine.node)}.
${r.options.ballots} voters over ${r.options.seconds} s, ${r.faults.filter(ran).length} faults.</p>
<h2>Verdicts</h2>${verdicts.replace('<table>', '<table class="l">')}
<h2>Over time</h2>
${lineChart(
  'Throughput',
  'answers/s; faults shaded',
  sec,
  [
    { label: 'voters arriving', color: '#999', value: (s) => s.arrivals },
    { label: 'cast ok', color: '#1565c0', value: (s) => s.castOk },
    { label: 'credential ok', color: '#00838f', value: (s) => s.issueOk },
    { label: 'refused', color: '#ef6c00', value: (s) => s.refused },
    { label: 'unknown', color: '#b00020', value: (s) => s.unknown },
  ],
  opts,
)}
${lineChart(
  'Latency of ok answers',
  'ms',
  sec,
  [
    { label: 'cast p50', color: '#2e7d32', value: (s) => s.castP50 },
    { label: 'cast p99', color: '#6a1b9a', value: (s) => s.castP99 },
    { label: 'credential p99', color: '#00838f', value: (s) => s.issueP99 },
  ],
  opts,
)}
${faultLanes(r, maxT)}
${lineChart('Voters in flight', 'voters', sec, [{ label: 'active', color: '#00838f', value: (s) => s.active }], opts)}
${lineChart(
  'CPU',
  '% of one core; the machine has cores × 100 %',
  sec,
  [
    { label: 'machine', color: '#999', value: (s) => s.machineCpuPct },
    { label: 'ingest', color: '#1565c0', value: (s) => s.ingestCpuPct },
    { label: 'voters', color: '#b00020', value: (s) => s.generatorCpuPct },
  ],
  opts,
)}
<h2>Faults</h2>${faults.replace('<table>', '<table class="l">')}
<h2>Operator actions</h2>${
    r.operatorActions.length === 0
      ? '<p>none</p>'
      : table(
          ['at s', 'after fault', 'action'],
          r.operatorActions.map((a) => [a.atSec, a.fault, a.action]),
        )
  }
<h2>Answers</h2>${outcomes}${answers}
<h2>Violations</h2>${violations === '' ? '<p>none</p>' : violations}
<h3>By the faults they happened under</h3><p>Each violation's window: a ballot from its first version to its last, a voter from their first credential to their second; every fault overlapping it counts.</p>${
    Object.keys(r.attribution).length === 0
      ? '<p>none</p>'
      : table(
          ['violation', 'fault', 'count'],
          Object.entries(r.attribution).flatMap(([list, byFault]) =>
            Object.entries(byFault)
              .sort((a, b) => b[1] - a[1])
              .map(([f, n]) => [list, f, n]),
          ),
        ).replace('<table>', '<table class="l">')
  }
<h2>Observed</h2>${kv(r.observed)}
<h2>Voters</h2>${kv(r.voters)}
<h2>Setup</h2>${kv({ options: r.options, ...r.setup })}
<h2>Notes</h2><ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>
</body></html>
`;
}

export function writeChaosHtml(path: string, report: ChaosReport): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, renderChaosHtml(report));
}
