/**
 * Deterministic, realistic contact CSV for tests and benchmarks: the same (count, seed) gives
 * the same bytes. Emails spread over ~30 domains weighted like a consumer list (gmail first),
 * some with upper case to exercise normalization; values that need quoting (commas, quotes)
 * and non-ASCII text appear at realistic rates; typed header columns for age and signup date.
 */

const DOMAINS: readonly (readonly [string, number])[] = [
  ['gmail.com', 30],
  ['outlook.com', 8],
  ['hotmail.com', 7],
  ['yahoo.com', 7],
  ['orange.fr', 5],
  ['icloud.com', 4],
  ['free.fr', 3],
  ['laposte.net', 3],
  ['sfr.fr', 2],
  ['wanadoo.fr', 2],
  ['gmx.de', 2],
  ['web.de', 2],
  ['aol.com', 2],
  ['live.com', 2],
  ['protonmail.com', 1],
  ['yahoo.fr', 2],
  ['hotmail.fr', 2],
  ['libero.it', 1],
  ['t-online.de', 1],
  ['btinternet.com', 1],
  ['comcast.net', 1],
  ['mail.ru', 1],
  ['yandex.ru', 1],
  ['qq.com', 1],
  ['naver.com', 1],
  ['example-corp.com', 2],
  ['acme.io', 1],
  ['université-paris.fr', 1],
  ['bücher.de', 1],
  ['fastmail.com', 1],
];

const FIRST_NAMES = [
  'Marie',
  'Jean',
  'Ana',
  'Lucas',
  'Léa',
  'Noah',
  'Emma',
  'Hugo',
  'Chloé',
  'Liam',
  'Olivia',
  'Mateo',
  'Zoë',
  'Jürgen',
  'Sofia',
  'Yuki',
  'Omar',
  'Fatima',
  'Björn',
  'Ines',
];
const LAST_NAMES = [
  'Martin',
  'Bernard',
  'Dubois',
  'Smith',
  'Johnson',
  'Müller',
  'Schmidt',
  'García',
  'Rossi',
  "O'Brien",
  'Nguyen',
  'Kowalski',
  'Leroy',
  'Moreau',
  'Silva',
  'Tanaka',
  'Haddad',
  'Novak',
  'Lefèvre',
  'Brown',
];
const PLACES: readonly (readonly [string, string])[] = [
  ['FR', 'Paris'],
  ['FR', 'Lyon'],
  ['FR', 'Saint-Étienne'],
  ['DE', 'Berlin'],
  ['DE', 'München'],
  ['US', 'New York'],
  ['US', 'Washington, D.C.'],
  ['GB', 'London'],
  ['ES', 'Madrid'],
  ['IT', 'Roma'],
  ['JP', 'Tokyo'],
  ['BR', 'São Paulo'],
];
const PLANS = ['free', 'free', 'free', 'starter', 'pro', 'enterprise'];
const TAGS = ['newsletter', 'customer', 'vip', 'trial', 'webinar-2026', 'black-friday', 'churned'];

const HEADER = 'email,first_name,last_name,country,city,age:number,plan,signup_at:date,tags\n';
const ROWS_PER_PIECE = 1_000;
const SIGNUP_START_MS = Date.UTC(2019, 0, 1);
const SIGNUP_SPAN_MS = 7 * 365 * 86_400_000;

/** mulberry32: tiny, fast and good enough to shape test data. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function pick<T>(items: readonly T[], next: () => number): T {
  return items[Math.floor(next() * items.length)]!;
}

function csvCell(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function asciiName(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();
}

/**
 * `count` data rows (plus the header), yielded about 1,000 rows at a time. Every email is
 * unique: the row index is part of the local part.
 */
export async function* generateContactsCsv(count: number, seed: number): AsyncGenerator<string> {
  const next = random(seed);
  const totalWeight = DOMAINS.reduce((sum, [, weight]) => sum + weight, 0);
  const firstLocal = FIRST_NAMES.map(asciiName);
  const lastLocal = LAST_NAMES.map(asciiName);
  const lastCells = LAST_NAMES.map(csvCell);
  const domainTable = DOMAINS.flatMap(([domain, weight]) => Array<string>(weight).fill(domain));
  let piece = HEADER;
  for (let i = 0; i < count; i++) {
    const firstIndex = Math.floor(next() * FIRST_NAMES.length);
    const lastIndex = Math.floor(next() * LAST_NAMES.length);
    const first = FIRST_NAMES[firstIndex]!;
    const domain = domainTable[Math.floor(next() * totalWeight)]!;
    const local = `${firstLocal[firstIndex]}.${lastLocal[lastIndex]}${i}`;
    const email =
      next() < 0.1 ? `${first[0]!.toUpperCase()}${local.slice(1)}@${domain}` : `${local}@${domain}`;
    const [country, city] = pick(PLACES, next);
    const age = next() < 0.15 ? '' : String(18 + Math.floor(next() * 60));
    const signup = new Date(SIGNUP_START_MS + Math.floor(next() * SIGNUP_SPAN_MS)).toISOString();
    const tagCount = Math.floor(next() * 3);
    const tags: string[] = [];
    for (let t = 0; t < tagCount; t++) tags.push(pick(TAGS, next));
    piece += `${email},${first},${lastCells[lastIndex]},${country},${csvCell(city)},${age},${pick(PLANS, next)},${signup},${tags.join(';')}\n`;
    if ((i + 1) % ROWS_PER_PIECE === 0) {
      yield piece;
      piece = '';
    }
  }
  if (piece !== '') yield piece;
}
