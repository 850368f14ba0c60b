/**
 * The pieces every HTML report draws with: escaping, tables and a line
 * chart over a per-second series, as inline SVG (no scripts, no assets).
 * `report-html.ts` (load tests) and `chaos/report-html.ts` (fault harness)
 * share them, so both reports look the same and their x-axes line up.
 *
 *   ┌ PAD.t ───────────────────────────────┐
 *   │ y labels │ plot area (W − l − r)      │  bands: shaded spans [from, to] s
 *   └ PAD.b: t ticks ──────────────────────┘
 */

export const esc = (s: unknown): string =>
  String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export interface Series<R> {
  readonly label: string;
  readonly color: string;
  readonly value: (row: R) => number | null;
}

/** A shaded span of the x-axis (a fault, a phase), in seconds since the run started. */
export interface Band {
  readonly from: number;
  readonly to: number;
  readonly color: string;
}

export interface ChartOptions {
  /** Last second of the x-axis; charts drawn with the same maxT line up. @default rows' last t */
  readonly maxT?: number;
  readonly bands?: readonly Band[];
}

export const CHART = { W: 860, H: 220, PAD: { l: 56, r: 12, t: 14, b: 28 } } as const;

/** x position of second `t` on an axis ending at `maxT`. */
export function xAt(t: number, maxT: number): number {
  const { W, PAD } = CHART;
  return PAD.l + (t / Math.max(1, maxT)) * (W - PAD.l - PAD.r);
}

export function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

export const fmt = (v: number): string =>
  v >= 1000 ? `${Math.round(v / 100) / 10}k` : String(Math.round(v * 10) / 10);

/** Time ticks along the bottom of a chart of height `h`. */
export function timeTicks(maxT: number, h: number): string {
  return Array.from({ length: 6 }, (_, i) => Math.round((Math.max(1, maxT) * i) / 5))
    .map((t) => `<text x="${xAt(t, maxT)}" y="${h - 8}" text-anchor="middle">${t}s</text>`)
    .join('');
}

export function lineChart<R extends { readonly t: number }>(
  title: string,
  unit: string,
  rows: readonly R[],
  series: readonly Series<R>[],
  options: ChartOptions = {},
): string {
  const { W, H, PAD } = CHART;
  const values = rows.flatMap((s) => series.map((x) => x.value(s))).filter((v): v is number => v !== null);
  if (values.length === 0) return '';
  const maxT = Math.max(1, options.maxT ?? rows.length - 1);
  const maxV = niceCeil(Math.max(1, ...values));
  const x = (t: number): number => xAt(t, maxT);
  const y = (v: number): number => H - PAD.b - (v / maxV) * (H - PAD.t - PAD.b);
  const bands = (options.bands ?? [])
    .map(
      (b) =>
        `<rect x="${x(b.from).toFixed(1)}" y="${PAD.t}" width="${Math.max(1, x(b.to) - x(b.from)).toFixed(1)}" height="${H - PAD.t - PAD.b}" fill="${b.color}"/>`,
    )
    .join('');
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => {
      const v = maxV * f;
      return `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v)}" y2="${y(v)}" class="g"/><text x="${PAD.l - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`;
    })
    .join('');
  const lines = series
    .map((s) => {
      let d = '';
      let pen = false;
      for (const row of rows) {
        const v = s.value(row);
        if (v === null) {
          pen = false;
          continue;
        }
        d += `${pen ? 'L' : 'M'}${x(row.t).toFixed(1)},${y(v).toFixed(1)}`;
        pen = true;
      }
      return d === '' ? '' : `<path d="${d}" stroke="${s.color}" fill="none" stroke-width="1.5"/>`;
    })
    .join('');
  const legend = series.map((s) => `<span style="color:${s.color}">■ ${esc(s.label)}</span>`).join(' ');
  return `<h3>${esc(title)} <small>(${esc(unit)})</small></h3><div class="legend">${legend}</div>
<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">${bands}${grid}${timeTicks(maxT, H)}${lines}</svg>`;
}

export function table(head: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</table>`;
}

/** The stylesheet both reports use. */
export const REPORT_CSS = `body{font:14px system-ui,sans-serif;margin:2em;max-width:940px;color:#222}
.pass{color:#176317}.fail{color:#b00020}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}svg text{font-size:11px;fill:#555}.g{stroke:#e4e4e4}.legend{font-size:12px}pre{background:#f7f7f7;padding:8px;overflow:auto;font-size:12px}`;
