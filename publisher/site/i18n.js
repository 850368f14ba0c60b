// Interface strings in Kazakh, Russian and English. Names of the election,
// races, regions and candidates come from the snapshot itself. Words follow
// the glossary (web/glossary.js); counts choose their form with plural() and
// numbers given raw are written with formatNumber (web/format.js).
import { formatNumber, plural } from './web/format.js';

export const LANGS = ['kk', 'ru', 'en'];

/** `n` written in `lang` followed by the form of `forms` that agrees with it. */
const count = (lang, n, forms) => `${formatNumber(lang, n)} ${plural(lang, n, forms)}`;

export const STRINGS = {
  kk: {
    skip: 'Негізгі мазмұнға өту',
    loading: 'Жүктелуде…',
    noResults: 'Әзірге нәтижелер жарияланған жоқ.',
    loadFailed: 'Нәтижелерді жүктеу мүмкін болмады.',
    snapshot: (seq, time) => `№${seq} жария нұсқа, ${time} жағдайы бойынша`,
    liveTitle: 'Тікелей: сайлаушылардың келуі',
    live: (cast, issued, roll, pct, time) =>
      `Қабылданған бюллетеньдер: ${cast} (тізімнің ${pct}), берілген рұқсаттар: ${issued}, тізімде: ${roll}. Жаңартылды: ${time}.`,
    liveNone: 'Тікелей деректер әлі жоқ.',
    chooseRace: 'Дауыс беру:',
    seats: (n, m) => `${formatNumber('kk', n)} орын, бюллетеньде ең көбі ${formatNumber('kk', m)} белгі`,
    valid: (v, x) =>
      `Жарамды дауыстар: ${v}` +
      (x > 0 ? `; алынып тасталған кандидаттардың дауыстары (есептелмейді): ${x}` : ''),
    online: 'онлайн',
    paper: 'қағаз',
    withdrawn: 'өз кандидатурасын алып тастады',
    removed: 'тіркеуден шығарылды — жарамды дауыстарға кірмейді',
    byRegion: 'Өңірлер бойынша дауыстар',
    region: 'Өңір',
    validShort: 'Жарамды',
    turnoutTitle: 'Сайлаушылардың келуі',
    turnoutCaption: 'Өңірлер бойынша сайлаушылар тізіміне қатысты келу',
    turnoutTotal: (cast, roll, pct, rep, prec) =>
      `Барлығы: ${cast} бюллетень, тізімде ${roll} (${pct}). Учаскелер хаттамалары: ${rep} / ${prec}.`,
    roll: 'Тізімде',
    issuedOnline: 'Берілген рұқсат (онлайн)',
    issuedPaper: 'Тіркелді (қағаз)',
    castOnline: 'Бюллетень (онлайн)',
    castPaper: 'Бюллетень (қағаз)',
    turnoutPct: 'Келу',
    reported: 'Хаттамалар',
    precinctsTitle: 'Қағаз сайлау учаскелері',
    precinctsCaption: 'Әр учаскенің соңғы хаттамасы',
    precinct: 'Учаске',
    district: 'Округ',
    status: 'Мәртебесі',
    version: 'Нұсқа',
    issuedCheckIns: 'Берілген бюллетень / тіркелгендер',
    notes: 'Ескертпелер',
    precinctStatus: { accepted: 'қабылданды', rejected: 'қабылданбады', missing: 'хаттама жоқ' },
    rejectedBecause: (why) => `Қабылданбады: ${why}`,
    correctedBecause: (why) => `Түзету себебі: ${why}`,
    dissent: (v, who, text) => `Бақылаушының ерекше пікірі (${v}-нұсқа, ${who}): ${text}`,
    precinctsFile: 'Учаскелер (CSV)',
    receiptTitle: 'Бюллетенім есептелді ме?',
    receiptLabel: 'Түбіртек коды:',
    receiptCheck: 'Кодты тексеру',
    receiptFound: (seq) => `Иә: бұл код №${seq} нұсқадағы есептелген бюллетеньдер тізімінде бар.`,
    receiptMissing: (seq, time) =>
      `Бұл код №${seq} нұсқада (${time}) жоқ. Егер сіз осы уақыттан кейін дауыс берсеңіз, келесі нұсқаны тексеріңіз; әйтпесе кодты қайта тексеріп, комиссияға хабарласыңыз.`,
    receiptBad: 'Код 26 таңбадан тұрады (A–Z, 2–7).',
    verifyTitle: 'Нәтижелерді өзіңіз тексеріңіз',
    verifyHelp:
      'Браузеріңіз әр нұсқаның Ed25519 қолтаңбасын, хэш-тізбектің үзілмегенін, сандардың қосындысын және кодтардың Меркл түбірін тексереді, кілт пен соңғы тексерілген нұсқаны осы құрылғыда есте сақтайды: кейін тізбек тек өсуі керек.',
    verifyRun: 'Нәтижелерді тексеру',
    verifyOk: (n) =>
      `Барлығы дұрыс: ${formatNumber('kk', n)} нұсқаға қол қойылған, тізбек үзілмеген, сандар сәйкес келеді.`,
    verifyFail: (msg) => `Қате табылды: ${msg}`,
    verifyStep: (seq) => `№${seq} нұсқа: қолтаңба мен тізбек дұрыс`,
    verifyMerkle: 'Кодтардың Меркл түбірі сәйкес келеді',
    verifyPinned: (fp) =>
      `Нәтижелер кілті осы құрылғыда бекітілді (SHA-256 ${fp}). Оны комиссия жариялаған саусақ ізімен салыстырыңыз; келесі тексерулер тек осы кілтті қабылдайды.`,
    verifyKeyKept: (fp) =>
      `Нәтижелер кілті осы құрылғыда бұрын бекітілген кілтпен бірдей (SHA-256 ${fp.slice(0, 16)}…)`,
    verifyGrew: (from, to) =>
      `Тізбек осы құрылғы соңғы көрген №${from} нұсқадан №${to} нұсқаға дейін тек өсті`,
    problems: {
      key_changed: (p) =>
        `нәтижелер кілті өзгерді: осы құрылғыда ${p.pinned.slice(0, 16)}… бекітілген, енді ${p.now.slice(0, 16)}… ұсынылып отыр`,
      rolled_back_head: (p) =>
        `соңғы нұсқа артқа шегерілді: сайт енді №${p.served} нұсқаны көрсетеді, ал осы құрылғы бұрын №${p.seen} нұсқаны көрген және ол әлі жарияланып тұр`,
      truncated_chain: (p) =>
        `тізбек қысқартылды: ол №${p.served} нұсқамен аяқталады, ал осы құрылғы бұрын көрген №${p.seen} нұсқа жоқ`,
      forked_chain: (p) => `тізбек тарамдалды: №${p.seq} нұсқа осы құрылғы бұрын көргеннен өзгеше`,
      code_disappeared: (p) => `${p.gone} коды №${p.from} нұсқада есептелген, бірақ №${p.to} нұсқада жоқ`,
      district_keys_changed: (p) => `округ кілттері сайлау барысында өзгерді (${p.where})`,
    },
    verifying: 'Тексерілуде…',
    downloads: 'Жүктеп алу',
    codesFile: 'Есептелген кодтар',
    finalTitle: 'Түпкілікті нәтижелер',
    finalDeclared: (round, by, time, reason, ref, seq) =>
      `Комиссия жариялады (${round}-кезең): ${by}, ${time}. Себебі: ${reason}.` +
      (ref ? ` Хаттама: ${ref}.` : '') +
      ` №${seq} нұсқа.`,
    finalChanges: (prev, n) =>
      n === 0 ? `${prev}-кезеңнен бері өзгеріс жоқ.` : `${prev}-кезеңнен бері ${n} өзгеріс:`,
    changeLine: (race, district, candidate, what, from, to) =>
      `${race}${district ? `, ${district} округі` : ''}: ${candidate} — ` +
      { votes: 'дауыстар', status: 'мәртебесі', winner: 'нәтиже' }[what] +
      ` ${from} → ${to}`,
    changeValue: {
      winner: 'жеңімпаз',
      tied: 'тең дауыс',
      'not-winner': 'жеңімпаз емес',
      active: 'тіркелген',
      withdrawn: 'өз кандидатурасын алып тастады',
      removed: 'тіркеуден шығарылды',
    },
    winnersCaption: 'Әр дауыс берудің жеңімпаздары',
    raceCol: 'Дауыс беру',
    seatsCol: 'Орын',
    winnersCol: 'Жеңімпаздар (дауыс саны)',
    tie: (at, names) => `Тең дауыс (${at}), шешімді комиссия қабылдайды: ${names}`,
    protocolsCaption: 'Әр округтің қол қойылған хаттамасы',
    protocolJson: 'Деректер (JSON)',
    protocolPrint: 'Басып шығаруға',
    protocolJsonLink: (id) => `${id} хаттамасы, JSON`,
    protocolPrintLink: (id) => `${id} хаттамасы, басып шығаруға`,
    footer:
      'Нәтижелер қол қойылған статикалық файлдар ретінде жарияланады; кез келген адам оларды тексере алады.',
    glossaryTitle: 'Сөздік',
  },
  ru: {
    skip: 'Перейти к основному содержанию',
    loading: 'Загрузка…',
    noResults: 'Результаты пока не опубликованы.',
    loadFailed: 'Не удалось загрузить результаты.',
    snapshot: (seq, time) => `Срез №${seq}, по состоянию на ${time}`,
    liveTitle: 'В реальном времени: явка',
    live: (cast, issued, roll, pct, time) =>
      `Принято бюллетеней: ${cast} (${pct} списка), выдано допусков: ${issued}, в списке: ${roll}. Обновлено: ${time}.`,
    liveNone: 'Данных в реальном времени пока нет.',
    chooseRace: 'Голосование:',
    seats: (n, m) =>
      `Мест: ${formatNumber('ru', n)}; в бюллетене можно отметить не более ` +
      count('ru', m, { one: 'кандидата', few: 'кандидатов', many: 'кандидатов', other: 'кандидата' }),
    valid: (v, x) =>
      `Действительные голоса: ${v}${x > 0 ? `; голоса за снятых кандидатов (не учитываются): ${x}` : ''}`,
    online: 'онлайн',
    paper: 'бумага',
    withdrawn: 'снял кандидатуру',
    removed: 'снят с регистрации — не входит в действительные голоса',
    byRegion: 'Голоса по регионам',
    region: 'Регион',
    validShort: 'Действ.',
    turnoutTitle: 'Явка',
    turnoutCaption: 'Явка по регионам относительно списка избирателей',
    turnoutTotal: (cast, roll, pct, rep, prec) =>
      `Всего: ${cast} бюллетеней при ${roll} в списке (${pct}). Протоколы участков: ${rep} из ${prec}.`,
    roll: 'В списке',
    issuedOnline: 'Выдано допусков (онлайн)',
    issuedPaper: 'Отметки (бумага)',
    castOnline: 'Бюллетени (онлайн)',
    castPaper: 'Бюллетени (бумага)',
    turnoutPct: 'Явка',
    reported: 'Протоколы',
    precinctsTitle: 'Бумажные избирательные участки',
    precinctsCaption: 'Последний протокол каждого участка',
    precinct: 'Участок',
    district: 'Округ',
    status: 'Статус',
    version: 'Версия',
    issuedCheckIns: 'Выдано бюллетеней / отмечено',
    notes: 'Примечания',
    precinctStatus: { accepted: 'принят', rejected: 'отклонён', missing: 'протокола нет' },
    rejectedBecause: (why) => `Отклонён: ${why}`,
    correctedBecause: (why) => `Причина исправления: ${why}`,
    dissent: (v, who, text) => `Особое мнение наблюдателя (версия ${v}, ${who}): ${text}`,
    precinctsFile: 'Участки (CSV)',
    receiptTitle: 'Учтён ли мой бюллетень?',
    receiptLabel: 'Код квитанции:',
    receiptCheck: 'Проверить код',
    receiptFound: (seq) => `Да: этот код есть в списке учтённых бюллетеней среза №${seq}.`,
    receiptMissing: (seq, time) =>
      `Этого кода нет в срезе №${seq} (${time}). Если вы голосовали позже, проверьте следующий срез; иначе проверьте код и обратитесь в комиссию.`,
    receiptBad: 'Код состоит из 26 символов (A–Z, 2–7).',
    verifyTitle: 'Проверьте результаты сами',
    verifyHelp:
      'Ваш браузер проверит подпись Ed25519 каждого среза, непрерывность цепочки хешей, суммы и корень Меркла списка кодов и запомнит на этом устройстве ключ и последний проверенный срез: дальше цепочка может только расти.',
    verifyRun: 'Проверить результаты',
    verifyOk: (n) =>
      `Всё верно: ${count('ru', n, { one: 'срез подписан', few: 'среза подписаны', many: 'срезов подписаны', other: 'среза подписаны' })}, цепочка непрерывна, суммы сходятся.`,
    verifyFail: (msg) => `Найдена ошибка: ${msg}`,
    verifyStep: (seq) => `Срез №${seq}: подпись и цепочка верны`,
    verifyMerkle: 'Корень Меркла кодов совпадает',
    verifyPinned: (fp) =>
      `Ключ результатов закреплён на этом устройстве (SHA-256 ${fp}). Сверьте его с отпечатком, объявленным комиссией; следующие проверки примут только этот ключ.`,
    verifyKeyKept: (fp) =>
      `Ключ результатов совпадает с закреплённым на этом устройстве (SHA-256 ${fp.slice(0, 16)}…)`,
    verifyGrew: (from, to) =>
      `Цепочка только выросла: от среза №${from}, который это устройство видело последним, до №${to}`,
    problems: {
      key_changed: (p) =>
        `ключ результатов сменился: на этом устройстве закреплён ${p.pinned.slice(0, 16)}…, теперь предъявлен ${p.now.slice(0, 16)}…`,
      rolled_back_head: (p) =>
        `последний срез откачен назад: сайт показывает срез №${p.served}, а это устройство уже видело срез №${p.seen}, который всё ещё опубликован`,
      truncated_chain: (p) =>
        `цепочка укорочена: она заканчивается срезом №${p.served}, а среза №${p.seen}, который это устройство уже видело, нет`,
      forked_chain: (p) => `цепочка разветвилась: срез №${p.seq} не тот, что это устройство видело раньше`,
      code_disappeared: (p) => `код ${p.gone} учтён в срезе №${p.from}, но отсутствует в срезе №${p.to}`,
      district_keys_changed: (p) => `ключи округов изменились во время выборов (${p.where})`,
    },
    verifying: 'Проверка…',
    downloads: 'Скачать',
    codesFile: 'Учтённые коды',
    finalTitle: 'Окончательные итоги',
    finalDeclared: (round, by, time, reason, ref, seq) =>
      `Объявлено комиссией (тур ${round}): ${by}, ${time}. Основание: ${reason}.` +
      (ref ? ` Протокол: ${ref}.` : '') +
      ` Срез №${seq}.`,
    finalChanges: (prev, n) =>
      n === 0 ? `С тура ${prev} ничего не изменилось.` : `Изменения с тура ${prev} (${n}):`,
    changeLine: (race, district, candidate, what, from, to) =>
      `${race}${district ? `, округ ${district}` : ''}: ${candidate} — ` +
      { votes: 'голоса', status: 'статус', winner: 'итог' }[what] +
      ` ${from} → ${to}`,
    changeValue: {
      winner: 'победитель',
      tied: 'равенство голосов',
      'not-winner': 'не победитель',
      active: 'зарегистрирован',
      withdrawn: 'снял кандидатуру',
      removed: 'снят с регистрации',
    },
    winnersCaption: 'Победители каждого голосования',
    raceCol: 'Голосование',
    seatsCol: 'Мест',
    winnersCol: 'Победители (голосов)',
    tie: (at, names) => `Равенство голосов (${at}), решает комиссия: ${names}`,
    protocolsCaption: 'Подписанный протокол каждого округа',
    protocolJson: 'Данные (JSON)',
    protocolPrint: 'Для печати',
    protocolJsonLink: (id) => `Протокол ${id}, JSON`,
    protocolPrintLink: (id) => `Протокол ${id}, для печати`,
    footer: 'Результаты публикуются в виде подписанных статических файлов; проверить их может любой.',
    glossaryTitle: 'Словарь',
  },
  en: {
    skip: 'Skip to main content',
    loading: 'Loading…',
    noResults: 'No results have been published yet.',
    loadFailed: 'Could not load the results.',
    snapshot: (seq, time) => `Snapshot #${seq}, as of ${time}`,
    liveTitle: 'Live turnout',
    live: (cast, issued, roll, pct, time) =>
      `Ballots cast: ${cast} (${pct} of the roll); credentials issued: ${issued}; on the roll: ${roll}. Updated ${time}.`,
    liveNone: 'No live figures yet.',
    chooseRace: 'Race:',
    seats: (n, m) =>
      `${count('en', n, { one: 'seat', other: 'seats' })}, up to ${count('en', m, { one: 'mark', other: 'marks' })} per ballot`,
    valid: (v, x) =>
      `Valid votes: ${v}${x > 0 ? `; votes for removed candidates (not counted as valid): ${x}` : ''}`,
    online: 'online',
    paper: 'paper',
    withdrawn: 'withdrawn',
    removed: 'removed — excluded from the valid total',
    byRegion: 'Votes by region',
    region: 'Region',
    validShort: 'Valid',
    turnoutTitle: 'Turnout',
    turnoutCaption: 'Turnout against the roll, by region',
    turnoutTotal: (cast, roll, pct, rep, prec) =>
      `Ballots cast: ${cast} of ${roll} on the roll (${pct}). Polling station protocols: ${rep} of ${prec}.`,
    roll: 'On roll',
    issuedOnline: 'Credentials issued (online)',
    issuedPaper: 'Check-ins (paper)',
    castOnline: 'Ballots (online)',
    castPaper: 'Ballots (paper)',
    turnoutPct: 'Turnout',
    reported: 'Protocols',
    precinctsTitle: 'Paper polling stations',
    precinctsCaption: "Each station's latest protocol",
    precinct: 'Station',
    district: 'District',
    status: 'Status',
    version: 'Version',
    issuedCheckIns: 'Ballots issued / checked in',
    notes: 'Notes',
    precinctStatus: { accepted: 'accepted', rejected: 'rejected', missing: 'no protocol' },
    rejectedBecause: (why) => `Rejected: ${why}`,
    correctedBecause: (why) => `Corrected because: ${why}`,
    dissent: (v, who, text) => `Observer's dissent (version ${v}, ${who}): ${text}`,
    precinctsFile: 'Polling stations (CSV)',
    receiptTitle: 'Was my ballot counted?',
    receiptLabel: 'Receipt code:',
    receiptCheck: 'Check code',
    receiptFound: (seq) => `Yes: this code is in the set of counted ballots of snapshot #${seq}.`,
    receiptMissing: (seq, time) =>
      `This code is not in snapshot #${seq} (${time}). If you voted after that, check the next snapshot; otherwise check the code and contact the commission.`,
    receiptBad: 'A receipt code has 26 characters (A–Z, 2–7).',
    verifyTitle: 'Check the results yourself',
    verifyHelp:
      "Your browser checks every snapshot's Ed25519 signature, the unbroken hash chain, that the counts add up, and the Merkle root of the counted codes, and remembers the key and the last snapshot it checked on this device: from then on the chain may only grow.",
    verifyRun: 'Verify the results',
    verifyOk: (n) =>
      `All good: ${count('en', n, { one: 'snapshot', other: 'snapshots' })} signed, chained and adding up.`,
    verifyFail: (msg) => `Problem found: ${msg}`,
    verifyStep: (seq) => `Snapshot #${seq}: signature and chain OK`,
    verifyMerkle: 'Merkle root of the codes matches',
    verifyPinned: (fp) =>
      `Results key pinned on this device (SHA-256 ${fp}). Compare it with the fingerprint the commission announced; later checks accept only this key.`,
    verifyKeyKept: (fp) => `Results key is the one pinned on this device (SHA-256 ${fp.slice(0, 16)}…)`,
    verifyGrew: (from, to) =>
      `The chain only grew, from snapshot #${from} (last seen on this device) to #${to}`,
    problems: {
      key_changed: (p) =>
        `the results key changed: this device pinned ${p.pinned.slice(0, 16)}…, the site now presents ${p.now.slice(0, 16)}…`,
      rolled_back_head: (p) =>
        `rolled-back head: the site now shows snapshot #${p.served}, but this device already saw snapshot #${p.seen}, which is still published`,
      truncated_chain: (p) =>
        `truncated chain: it ends at snapshot #${p.served}, without snapshot #${p.seen} that this device already saw`,
      forked_chain: (p) => `forked chain: snapshot #${p.seq} is not the one this device saw before`,
      code_disappeared: (p) =>
        `code ${p.gone} is counted in snapshot #${p.from} but not in snapshot #${p.to}`,
      district_keys_changed: (p) => `district keys changed during the election (${p.where})`,
    },
    verifying: 'Verifying…',
    downloads: 'Downloads',
    codesFile: 'Counted codes',
    finalTitle: 'Final results',
    finalDeclared: (round, by, time, reason, ref, seq) =>
      `Declared by the commission (round ${round}): ${by}, ${time}. Reason: ${reason}.` +
      (ref ? ` Protocol: ${ref}.` : '') +
      ` Snapshot #${seq}.`,
    finalChanges: (prev, n) =>
      n === 0 ? `Nothing changed since round ${prev}.` : `Changes since round ${prev} (${n}):`,
    changeLine: (race, district, candidate, what, from, to) =>
      `${race}${district ? `, district ${district}` : ''}: ${candidate} — ` +
      { votes: 'votes', status: 'status', winner: 'result' }[what] +
      ` ${from} → ${to}`,
    changeValue: {
      winner: 'winner',
      tied: 'tied',
      'not-winner': 'not a winner',
      active: 'standing',
      withdrawn: 'withdrawn',
      removed: 'removed',
    },
    winnersCaption: 'Winners of each race',
    raceCol: 'Race',
    seatsCol: 'Seats',
    winnersCol: 'Winners (votes)',
    tie: (at, names) => `Tie at ${at} votes, for the commission to decide: ${names}`,
    protocolsCaption: 'Signed protocol of each district',
    protocolJson: 'Data (JSON)',
    protocolPrint: 'Printable',
    protocolJsonLink: (id) => `Protocol ${id}, JSON`,
    protocolPrintLink: (id) => `Protocol ${id}, printable`,
    footer: 'Results are published as signed static files that anyone can check.',
    glossaryTitle: 'Words used here',
  },
};
