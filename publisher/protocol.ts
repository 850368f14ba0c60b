/**
 * A final round's per-district protocol (issue 16): the district's counts in
 * each of its races, the race's winners, the declaration and the snapshot it
 * comes from, as canonical JSON signed with the snapshot key, and the same
 * numbers as a printable HTML page that says how to check the signature.
 *
 * Derived from the final snapshot and nothing else (like the CSVs), so
 * `verify` regenerates both files and compares; Ed25519 signatures are
 * deterministic, so the same snapshot always gives the same bytes.
 *
 *   final/<round>/<district>.json   canonical JSON (common/canonical.ts), `signature` over the rest
 *   final/<round>/<district>.html   printable: the same numbers, the signature, how to verify
 */
import type { KeyObject } from 'node:crypto';
import { canonicalJson } from '../common/canonical.js';
import type { CandidateStatus, Names } from '../election/index.js';
import { PublisherError } from './errors.js';
import { signDocument, snapshotHash } from './signer.js';
import type { Counts, FinalResult, PrecinctStatus, Snapshot } from './snapshot.js';

export const PROTOCOL_VERSION = 1;

export interface DistrictProtocol {
  readonly v: typeof PROTOCOL_VERSION;
  readonly election: { readonly id: string; readonly names: Names };
  readonly district: { readonly id: string; readonly region: string };
  readonly round: number;
  readonly declaration: {
    readonly id: string;
    readonly by: string;
    readonly reason: string;
    readonly at: number;
    readonly reference: string;
  };
  /** The final snapshot this protocol is part of: its seq, hash (SHA-256 of its canonical bytes) and time. */
  readonly snapshot: { readonly seq: number; readonly hash: string; readonly takenAt: string };
  readonly races: readonly ProtocolRace[];
  /** The district's paper precincts as the final judged them. */
  readonly precincts: readonly {
    readonly id: string;
    readonly status: PrecinctStatus;
    readonly version: number;
    readonly issued: number;
  }[];
  /** Ed25519 by the snapshot key over the canonical form without this member, base64url. */
  readonly signature: string;
}

export interface ProtocolRace {
  readonly id: string;
  readonly names: Names;
  readonly seats: number;
  /** The district's counts; a removed candidate's votes are shown and counted in `excluded`, not `valid`. */
  readonly candidates: readonly {
    readonly id: string;
    readonly names: Names;
    readonly status: CandidateStatus;
    readonly online: number;
    readonly paper: number;
    readonly total: number;
  }[];
  readonly valid: number;
  readonly excluded: number;
  /** The race's winners (over every district it is on) and a tie at the seat boundary, if any. */
  readonly winners: readonly string[];
  readonly tie: FinalResult['winners'][number]['tie'];
}

export type UnsignedProtocol = Omit<DistrictProtocol, 'signature'>;

/** One protocol per district of the election (config order), unsigned. */
export function districtProtocols(s: Snapshot): UnsignedProtocol[] {
  const final = s.final;
  if (final === undefined) throw new PublisherError('results_inconsistent', `snapshot ${s.seq} is not final`);
  const hash = snapshotHash(s);
  return s.districtKeys.map(({ id }) => {
    let region = '';
    const races: ProtocolRace[] = [];
    for (const race of s.races) {
      for (const r of race.regions) {
        const d = r.districts.find((x) => x.id === id);
        if (d === undefined) continue;
        region = r.code;
        const w = final.winners.find((x) => x.race === race.id);
        races.push({
          id: race.id,
          names: race.names,
          seats: race.seats,
          candidates: rows(race.candidates, d.total),
          valid: d.total.valid,
          excluded: d.total.excluded,
          winners: w?.winners ?? [],
          tie: w?.tie ?? null,
        });
      }
    }
    return {
      v: PROTOCOL_VERSION,
      election: s.election,
      district: { id, region },
      round: final.round,
      declaration: {
        id: final.declaration,
        by: final.by,
        reason: final.reason,
        at: final.at,
        reference: final.reference,
      },
      snapshot: { seq: s.seq, hash, takenAt: s.takenAt },
      races,
      precincts: (s.precincts ?? [])
        .filter((p) => p.district === id)
        .map((p) => ({ id: p.id, status: p.status, version: p.version, issued: p.issued })),
    };
  });
}

function rows(
  candidates: Snapshot['races'][number]['candidates'],
  counts: Counts,
): ProtocolRace['candidates'] {
  return candidates.map((c, i) => {
    const n = counts.candidates[i]!;
    return { id: c.id, names: c.names, status: c.status, online: n.online, paper: n.paper, total: n.total };
  });
}

export function signProtocol(unsigned: UnsignedProtocol, privateKey: KeyObject): DistrictProtocol {
  return signDocument(unsigned, privateKey);
}

/** The `.json` file's bytes: canonical JSON of the signed protocol. */
export function protocolJson(p: DistrictProtocol): string {
  return canonicalJson(p);
}

const LABELS = {
  title: 'Округтық хаттама · Окружной протокол · District protocol',
  district: 'Округ · Округ · District',
  region: 'Өңір · Регион · Region',
  round: 'Жариялау кезеңі · Тур объявления · Round',
  declared: 'Жариялаған · Объявил · Declared by',
  reason: 'Себебі · Основание · Reason',
  reference: 'Хаттама нөмірі · Номер протокола · Reference',
  at: 'Уақыты (UTC) · Время (UTC) · Time (UTC)',
  snapshot: 'Нұсқа · Срез · Snapshot',
  candidate: 'Кандидат · Кандидат · Candidate',
  status: 'Мәртебе · Статус · Status',
  online: 'Онлайн · Онлайн · Online',
  paper: 'Қағаз · Бумага · Paper',
  total: 'Барлығы · Всего · Total',
  valid: 'Жарамды дауыстар · Действительные голоса · Valid votes',
  excluded: 'Алынып тасталған (есептелмейді) · Исключённые (не учитываются) · Excluded (not counted)',
  seats: 'Орын · Мест · Seats',
  winners:
    'Сайлаудың жеңімпаздары (барлық округтер) · Победители выборов (все округа) · Winners of the race (all districts)',
  tie: 'Тең дауыс, шешімді комиссия қабылдайды · Равенство голосов, решает комиссия · Tie, for the commission to decide',
  precincts: 'Қағаз учаскелер · Бумажные участки · Paper precincts',
  issued: 'Берілген бюллетень · Выдано бюллетеней · Ballots issued',
  version: 'Нұсқа · Версия · Version',
  signature: 'Қолтаңба · Подпись · Signature',
  verify: 'Қалай тексеруге болады · Как проверить · How to verify',
} as const;

const STATUS: Readonly<Record<string, string>> = {
  active: 'тіркелген · зарегистрирован · standing',
  withdrawn: 'өз кандидатурасын алып тастады · снял кандидатуру · withdrawn',
  removed: 'тіркеуден шығарылды, есептелмейді · снят с регистрации, не учитывается · removed, not counted',
  accepted: 'қабылданды · принят · accepted',
  rejected: 'қабылданбады · отклонён · rejected',
  missing: 'хаттама жоқ · нет протокола · missing',
};

const esc = (s: string | number): string =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
const names = (n: Names): string => `${esc(n.kk)} · ${esc(n.ru)} · ${esc(n.en)}`;

/** The printable page: the same numbers as the JSON, its signature, and how to check it. */
export function protocolHtml(p: DistrictProtocol): string {
  const file = `${p.district.id}.json`;
  const races = p.races.map((race) => {
    const byId = new Map(race.candidates.map((c) => [c.id, c]));
    const who = (id: string) => (byId.has(id) ? names(byId.get(id)!.names) : esc(id));
    const body = race.candidates
      .map(
        (c) =>
          `<tr><th scope="row">${names(c.names)}</th><td>${STATUS[c.status] ?? esc(c.status)}</td><td>${c.online}</td><td>${c.paper}</td><td>${c.total}</td></tr>`,
      )
      .join('\n');
    const tie =
      race.tie === null
        ? ''
        : `<p class="tie"><strong>${LABELS.tie}:</strong> ${race.tie.candidates.map(who).join('; ')} (${race.tie.at})</p>`;
    return `<section>
<h2>${names(race.names)}</h2>
<table>
<caption>${LABELS.seats}: ${race.seats}</caption>
<thead><tr><th scope="col">${LABELS.candidate}</th><th scope="col">${LABELS.status}</th><th scope="col">${LABELS.online}</th><th scope="col">${LABELS.paper}</th><th scope="col">${LABELS.total}</th></tr></thead>
<tbody>
${body}
</tbody>
</table>
<p>${LABELS.valid}: <strong>${race.valid}</strong>. ${LABELS.excluded}: ${race.excluded}.</p>
<p><strong>${LABELS.winners}:</strong> ${race.winners.length === 0 ? '—' : race.winners.map(who).join('; ')}</p>
${tie}
</section>`;
  });
  const precincts =
    p.precincts.length === 0
      ? ''
      : `<section>
<h2>${LABELS.precincts}</h2>
<table>
<thead><tr><th scope="col">ID</th><th scope="col">${LABELS.status}</th><th scope="col">${LABELS.version}</th><th scope="col">${LABELS.issued}</th></tr></thead>
<tbody>
${p.precincts.map((x) => `<tr><th scope="row">${esc(x.id)}</th><td>${STATUS[x.status] ?? esc(x.status)}</td><td>${x.version}</td><td>${x.issued}</td></tr>`).join('\n')}
</tbody>
</table>
</section>`;
  return `<!doctype html>
<html lang="kk">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(p.election.names.en)} — ${esc(p.district.id)} — ${p.round}</title>
<link rel="stylesheet" href="../../protocol.css">
</head>
<body>
<main>
<h1>${LABELS.title}</h1>
<p>${names(p.election.names)}</p>
<dl>
<dt>${LABELS.district}</dt><dd>${esc(p.district.id)} (${LABELS.region}: ${esc(p.district.region)})</dd>
<dt>${LABELS.round}</dt><dd>${p.round}</dd>
<dt>${LABELS.declared}</dt><dd>${esc(p.declaration.by)} (${esc(p.declaration.id)})</dd>
<dt>${LABELS.reason}</dt><dd>${esc(p.declaration.reason)}</dd>
<dt>${LABELS.reference}</dt><dd>${p.declaration.reference === '' ? '—' : esc(p.declaration.reference)}</dd>
<dt>${LABELS.at}</dt><dd>${new Date(p.declaration.at).toISOString()}</dd>
<dt>${LABELS.snapshot}</dt><dd>#${p.snapshot.seq}, ${esc(p.snapshot.takenAt)}, SHA-256 <span class="sig">${esc(p.snapshot.hash)}</span></dd>
</dl>
${races.join('\n')}
${precincts}
<section>
<h2>${LABELS.signature}</h2>
<p class="sig">${esc(p.signature)}</p>
<h2>${LABELS.verify}</h2>
<ol>
<li lang="en">Download <a href="${esc(file)}">${esc(file)}</a>, the signed data this page is printed from.</li>
<li lang="en">Remove its <code>signature</code> member; the rest, as canonical JSON (keys sorted, no spaces, UTF-8), is what the signature covers.</li>
<li lang="en">Check the Ed25519 signature (base64url) with the election's snapshot key, published as <code>snapshotKey.spki</code> in <code>elections/${esc(p.election.id)}.json</code>.</li>
<li lang="en">Or run <code>npm run verify -- &lt;results site URL&gt;</code>: it checks every snapshot, every final and every district protocol.</li>
</ol>
</section>
</main>
</body>
</html>
`;
}
