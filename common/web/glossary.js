// The words both sites use, one per meaning and language, with what each
// means and the words not to use for it. The voter page and the results site
// show it ("Words used here"); test/web.locale.glossary.test.ts checks that
// neither site's strings use an `avoid` word. `avoid` holds lower-case stems
// matched at the start of a word. Imports nothing.

/** Term ids, in the order the glossary is shown. */
export const TERM_IDS = [
  'election',
  'race',
  'ballot',
  'credential',
  'receipt',
  'turnout',
  'snapshot',
  'district',
  'region',
  'precinct',
  'candidate',
  'seat',
  'validVotes',
  'protocol',
];

export const GLOSSARY = {
  kk: {
    election: {
      term: 'сайлау',
      definition:
        'Сайлау комиссиясы ашылған сәттен жабылғанға дейін өткізетін бүкіл дауыс беру: барлық округтегі барлық бюллетень бөлімдері.',
      avoid: [],
    },
    race: {
      term: 'дауыс беру',
      definition:
        'Бюллетеньнің бір бөлімі: бір органға кандидаттарды таңдау (мысалы, Мәжіліске партиялық тізім бойынша немесе мәслихатқа). Бір сайлауда бірнеше дауыс беру болады.',
      avoid: ['жарыс'],
    },
    ballot: {
      term: 'бюллетень',
      definition:
        'Өз округіңіздегі әр дауыс беру бойынша таңдауыңызды белгілейтін нысан. Онлайн бюллетень есіміңізсіз жіберіледі.',
      avoid: [],
    },
    credential: {
      term: 'рұқсат',
      definition:
        'Жүйеге кіргеннен кейін берілетін, бір рет дауыс беруге арналған анонимді рұқсат. Ол кім екеніңізді ашпай, өз округіңізде дауыс бере алатыныңызды растайды.',
      avoid: ['куәлі'],
    },
    receipt: {
      term: 'түбіртек',
      definition:
        'Бюллетеніңіз қабылданғаннан кейін көрсетілетін 26 таңбалы код. Нәтижелер сайтында ол арқылы бюллетеніңіздің есептелгенін тексере аласыз; код қалай дауыс бергеніңізді ашпайды.',
      avoid: ['квитанц'],
    },
    turnout: {
      term: 'сайлаушылардың келуі',
      definition: 'Тізімдегі сайлаушылардың онлайн немесе қағаз бюллетеньмен дауыс бергендерінің үлесі.',
      avoid: [],
    },
    snapshot: {
      term: 'жария нұсқа',
      definition:
        'Белгілі бір сәттегі нәтижелер: комиссия қол қояды және алдыңғы нұсқамен тізбекке байлайды, сондықтан кейін ештеңе өзгертілмегенін кез келген адам тексере алады.',
      avoid: [],
    },
    district: {
      term: 'округ',
      definition: 'Сайлау округі: бюллетеніңізде өз округіңіздің дауыс берулері болады.',
      avoid: [],
    },
    region: {
      term: 'өңір',
      definition: 'Округтер тобы: облыс немесе республикалық маңызы бар қала.',
      avoid: [],
    },
    precinct: {
      term: 'сайлау учаскесі',
      definition: 'Қағаз бюллетеньмен дауыс беретін орын; оның комиссиясы дауыс санау хаттамасына қол қояды.',
      avoid: [],
    },
    candidate: {
      term: 'кандидат',
      definition: 'Сайлауға түскен, оған дауыс беруге болатын адам.',
      avoid: [],
    },
    seat: {
      term: 'орын',
      definition:
        'Дауыс беру арқылы толтырылатын органдағы орын; бір дауыс беруде бір немесе бірнеше орын болады.',
      avoid: [],
    },
    validVotes: {
      term: 'жарамды дауыстар',
      definition:
        'Нәтижеге есептелетін дауыстар. Тіркеуден шығарылған кандидаттарға берілген дауыстар бөлек көрсетіледі және есептелмейді.',
      avoid: [],
    },
    protocol: {
      term: 'хаттама',
      definition:
        'Дауыс санаудың қол қойылған құжаты: сайлау учаскесінікі оның қағаз бюллетеньдері бойынша, округтікі бүкіл округ бойынша.',
      avoid: [],
    },
  },
  ru: {
    election: {
      term: 'выборы',
      definition:
        'Всё голосование, которое избирательная комиссия проводит от открытия до закрытия: все разделы бюллетеня во всех округах.',
      avoid: [],
    },
    race: {
      term: 'голосование',
      definition:
        'Один раздел бюллетеня: выбор кандидатов в один орган (например, в Мажилис по партийному списку или в маслихат). В одних выборах бывает несколько голосований.',
      avoid: ['гонк'],
    },
    ballot: {
      term: 'бюллетень',
      definition:
        'Форма, в которой вы отмечаете свой выбор по каждому голосованию своего округа. Онлайн-бюллетень отправляется без вашего имени.',
      avoid: [],
    },
    credential: {
      term: 'допуск',
      definition:
        'Анонимное разрешение проголосовать один раз; выдаётся после входа. Подтверждает, что вы можете голосовать в своём округе, не раскрывая, кто вы.',
      avoid: ['удостоверени'],
    },
    receipt: {
      term: 'квитанция',
      definition:
        'Код из 26 символов, который показывается, когда бюллетень принят. По нему на сайте результатов можно проверить, что бюллетень учтён; как вы проголосовали, код не раскрывает.',
      avoid: [],
    },
    turnout: {
      term: 'явка',
      definition: 'Доля избирателей из списка, которые проголосовали онлайн или бумажным бюллетенем.',
      avoid: [],
    },
    snapshot: {
      term: 'срез',
      definition:
        'Результаты на определённый момент. Комиссия подписывает каждый срез и связывает его с предыдущим в цепочку, поэтому любой может проверить, что позже ничего не изменили.',
      avoid: [],
    },
    district: {
      term: 'округ',
      definition: 'Избирательный округ: в вашем бюллетене голосования вашего округа.',
      avoid: [],
    },
    region: {
      term: 'регион',
      definition: 'Группа округов: область или город республиканского значения.',
      avoid: [],
    },
    precinct: {
      term: 'избирательный участок',
      definition: 'Место голосования бумажными бюллетенями; его комиссия подписывает протокол подсчёта.',
      avoid: [],
    },
    candidate: {
      term: 'кандидат',
      definition: 'Тот, кто баллотируется и за кого можно проголосовать.',
      avoid: [],
    },
    seat: {
      term: 'место',
      definition:
        'Место в органе, который избирается голосованием; в одном голосовании может быть одно или несколько мест.',
      avoid: [],
    },
    validVotes: {
      term: 'действительные голоса',
      definition:
        'Голоса, которые учитываются в итогах. Голоса за кандидатов, снятых с регистрации, показываются отдельно и не учитываются.',
      avoid: [],
    },
    protocol: {
      term: 'протокол',
      definition:
        'Подписанный документ о подсчёте голосов: протокол участка — по его бумажным бюллетеням, протокол округа — по всему округу.',
      avoid: [],
    },
  },
  en: {
    election: {
      term: 'election',
      definition:
        'The whole vote the election commission runs, from opening to closing: every part of the ballot in every district.',
      avoid: [],
    },
    race: {
      term: 'race',
      definition:
        'One part of the ballot: choosing candidates for one body (for example the Mazhilis party list, or a maslikhat). An election has several races.',
      avoid: [],
    },
    ballot: {
      term: 'ballot',
      definition:
        'The form on which you mark your choices in every race of your district. An online ballot is sent without your name.',
      avoid: [],
    },
    credential: {
      term: 'credential',
      definition:
        'An anonymous permission to vote once, issued after you sign in. It proves that you may vote in your district without revealing who you are.',
      avoid: [],
    },
    receipt: {
      term: 'receipt',
      definition:
        'The 26-character code shown once your ballot is recorded. Look it up on the results site to see that your ballot was counted; it does not show how you voted.',
      avoid: [],
    },
    turnout: {
      term: 'turnout',
      definition: 'The share of the voters on the roll who have voted, online or on paper.',
      avoid: [],
    },
    snapshot: {
      term: 'snapshot',
      definition:
        'The results at one moment. The commission signs each snapshot and chains it to the previous one, so anyone can check that nothing was changed later.',
      avoid: [],
    },
    district: {
      term: 'district',
      definition: 'The electoral district you vote in: your ballot has its races.',
      avoid: [],
    },
    region: {
      term: 'region',
      definition: 'A group of districts: an oblast or a city of national significance.',
      avoid: [],
    },
    precinct: {
      term: 'polling station',
      definition: 'A place where voters vote on paper; its commission signs a protocol of the count.',
      avoid: [],
    },
    candidate: {
      term: 'candidate',
      definition: 'A person standing in a race, whom you may vote for.',
      avoid: [],
    },
    seat: {
      term: 'seat',
      definition: 'A place in the body a race elects; a race fills one seat or several.',
      avoid: ['seat(s)'],
    },
    validVotes: {
      term: 'valid votes',
      definition:
        'The votes that count towards the result. Votes for candidates removed from the race are shown apart and do not count.',
      avoid: [],
    },
    protocol: {
      term: 'protocol',
      definition:
        "The signed record of a count: a polling station's for its paper ballots, a district's for the whole district.",
      avoid: [],
    },
  },
};
