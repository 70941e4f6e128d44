// @ts-check
'use strict';

/**
 * CPU-heavy request handlers of the demo services. Each is real work (JSON, hashing, regular
 * expressions, sorting, compression, arithmetic) in plainly named functions, so the demo profiles have
 * readable flame graphs and per-function costs. Handlers take a seeded random source and the service
 * version; a few versions are deliberately slower, so the regression scan has something to find.
 */

const crypto = require('node:crypto');
const zlib = require('node:zlib');

/** @param {number} a @param {number} b */
function ascending(a, b) {
  return a - b;
}

/** @typedef {() => number} Random */
/** @typedef {{ name: string, weight: number, handle: (random: Random, version: string) => void }} Endpoint */

// ---------------------------------------------------------------- checkout

/** @param {Random} random */
function buildCartJson(random) {
  const items = [];
  const count = 20 + Math.floor(random() * 40);
  for (let i = 0; i < count; i++) {
    items.push({
      sku: `SKU-${Math.floor(random() * 1e6)}`,
      qty: 1 + Math.floor(random() * 4),
      priceCents: Math.floor(random() * 20000),
    });
  }
  return JSON.stringify({ cartId: crypto.randomUUID(), currency: 'EUR', items });
}

/** @param {string} json */
function validateCart(json) {
  const cart = JSON.parse(json);
  for (const item of cart.items) if (!/^SKU-\d+$/.test(item.sku) || item.qty < 1) throw new Error('bad item');
  return cart;
}

/** @param {{ items: { qty: number, priceCents: number }[] }} cart */
function priceCart(cart) {
  const lines = cart.items.map((item) => item.qty * item.priceCents).sort((a, b) => b - a);
  return lines.reduce((sum, line) => sum + line, 0);
}

/**
 * Order signature: 200 SHA-256 rounds. Version 1.15.0 adds a hand-rolled checksum of the signature in signOrder's own
 * loop (the demo regression: a per-order integrity check written in JavaScript, about as costly as the hashing).
 * @param {string} payload @param {string} version
 */
function signOrder(payload, version) {
  let digest = payload;
  for (let i = 0; i < 200; i++) digest = crypto.createHash('sha256').update(digest).digest('hex');
  if (version !== '1.15.0') return digest;
  let check = 0;
  for (let round = 0; round < 1500; round++)
    for (let i = 0; i < digest.length; i++) check = (Math.imul(check, 31) + digest.charCodeAt(i) + round) | 0;
  return `${digest}:${(check >>> 0).toString(16)}`;
}

/** @type {Endpoint[]} */
const checkout = [
  {
    name: 'POST /cart/checkout',
    weight: 5,
    handle: (random, version) => {
      const cart = validateCart(buildCartJson(random));
      signOrder(`${cart.cartId}:${priceCart(cart)}`, version);
    },
  },
  { name: 'GET /cart', weight: 3, handle: (random) => void serializeCart(validateCart(buildCartJson(random))) },
];

/** @param {unknown} cart */
function serializeCart(cart) {
  let out = '';
  for (let i = 0; i < 20; i++) out = JSON.stringify(cart);
  return out;
}

// ---------------------------------------------------------------- payments-api

/** @param {Random} random */
function tokenizeCard(random) {
  const pan = String(4000000000000000 + Math.floor(random() * 1e15));
  return crypto.pbkdf2Sync(pan, 'demo-salt', 300, 32, 'sha256').toString('hex');
}

/** @param {string} body */
function verifyWebhookSignature(body) {
  let mac = '';
  for (let i = 0; i < 150; i++)
    mac = crypto
      .createHmac('sha256', 'whsec_demo')
      .update(body + mac)
      .digest('hex');
  return mac;
}

/** @param {Random} random */
function fraudScore(random) {
  let score = 0;
  for (let i = 0; i < 40_000; i++) score += Math.sin(i * random()) * Math.cos(i);
  return score;
}

/** @type {Endpoint[]} */
const paymentsApi = [
  { name: 'POST /charges', weight: 5, handle: (random) => void (tokenizeCard(random), fraudScore(random)) },
  { name: 'POST /webhooks', weight: 2, handle: (random) => void verifyWebhookSignature(buildCartJson(random)) },
  { name: 'GET /charges/:id', weight: 3, handle: (random) => void serializeCart(JSON.parse(buildCartJson(random))) },
];

// ---------------------------------------------------------------- ledger

/** @param {Random} random */
function appendJournalEntries(random) {
  let balance = 0n;
  for (let i = 0; i < 4000; i++) balance += BigInt(Math.floor(random() * 1e9)) * 1_000_000n - 500_000_000_000_000n;
  return balance;
}

/** @param {{ id: number, amount: number }} a @param {{ id: number, amount: number }} b */
function byAccountThenAmount(a, b) {
  return a.id - b.id || a.amount - b.amount;
}

/** @param {Random} random */
function computeBalances(random) {
  const accounts = [];
  for (let i = 0; i < 6000; i++)
    accounts.push({ id: Math.floor(random() * 500), amount: Math.floor(random() * 1e6) - 5e5 });
  accounts.sort(byAccountThenAmount);
  const totals = new Map();
  for (const { id, amount } of accounts) totals.set(id, (totals.get(id) ?? 0) + amount);
  return totals;
}

/** @param {Random} random @param {number} count */
function randomAmounts(random, count) {
  const amounts = [];
  for (let i = 0; i < count; i++) amounts.push(Math.floor(random() * 1e9));
  return amounts;
}

/** @param {Random} random */
function reconcileAccounts(random) {
  const left = randomAmounts(random, 20_000).sort(ascending);
  const right = left.slice().reverse().sort(ascending);
  let mismatches = 0;
  for (let i = 0; i < left.length; i++) if (left[i] !== right[i]) mismatches++;
  return mismatches;
}

/** @type {Endpoint[]} */
const ledger = [
  { name: 'POST /entries', weight: 5, handle: (random) => void appendJournalEntries(random) },
  { name: 'GET /balances', weight: 3, handle: (random) => void computeBalances(random) },
  { name: 'job reconcile', weight: 1, handle: (random) => void reconcileAccounts(random) },
];

// ---------------------------------------------------------------- recommendations

/** @type {Map<number, Float64Array[]>} */
const itemEmbeddings = new Map();

/**
 * The catalogue's item vectors, built once per process like a model loaded at start.
 * @param {number} dims
 */
function loadItemEmbeddings(dims) {
  let items = itemEmbeddings.get(dims);
  if (items === undefined) {
    items = [];
    for (let i = 0; i < 3000; i++) {
      const vector = new Float64Array(dims);
      for (let d = 0; d < dims; d++) vector[d] = Math.sin(i * 31 + d * 7);
      items.push(vector);
    }
    itemEmbeddings.set(dims, items);
  }
  return items;
}

/** @param {Random} random @param {number} dims */
function embedUser(random, dims) {
  const vector = new Float64Array(dims);
  for (let d = 0; d < dims; d++) vector[d] = random() - 0.5;
  return vector;
}

/** @param {Float64Array} user @param {Float64Array[]} items */
function scoreCandidates(user, items) {
  const scored = [];
  for (let index = 0; index < items.length; index++) {
    const item = /** @type {Float64Array} */ (items[index]);
    let dot = 0;
    for (let d = 0; d < user.length; d++) dot += (user[d] ?? 0) * (item[d] ?? 0);
    scored.push({ index, dot });
  }
  return scored;
}

/** @param {{ dot: number }} a @param {{ dot: number }} b */
function byScoreDescending(a, b) {
  return b.dot - a.dot;
}

/** @param {{ index: number, dot: number }[]} scored */
function rankCandidates(scored) {
  return scored.sort(byScoreDescending).slice(0, 60);
}

/**
 * Version 3.2.0 re-ranks the top candidates for diversity with pairwise similarities (the second demo
 * regression: about as much work again as scoring).
 * @param {{ index: number, dot: number }[]} ranked @param {Float64Array[]} items @param {string} version
 */
function diversify(ranked, items, version) {
  if (version !== '3.2.0') return ranked;
  const penalty = ranked.map(() => 0);
  for (let i = 0; i < ranked.length; i++) {
    const a = /** @type {Float64Array} */ (items[ranked[i]?.index ?? 0]);
    for (let j = 0; j < ranked.length; j++) {
      const b = /** @type {Float64Array} */ (items[ranked[j]?.index ?? 0]);
      let similarity = 0;
      for (let d = 0; d < a.length; d++) similarity += (a[d] ?? 0) * (b[d] ?? 0);
      penalty[i] = Math.max(penalty[i] ?? 0, i === j ? 0 : similarity);
    }
  }
  return ranked
    .map((candidate, i) => ({ index: candidate.index, dot: candidate.dot - (penalty[i] ?? 0) }))
    .sort(byScoreDescending);
}

/** @param {Random} random @param {string} version @param {number} dims */
function recommendFor(random, version, dims) {
  const items = loadItemEmbeddings(dims);
  return diversify(rankCandidates(scoreCandidates(embedUser(random, dims), items)), items, version);
}

/** @type {Endpoint[]} */
const recommendations = [
  { name: 'GET /recommendations', weight: 6, handle: (random, version) => void recommendFor(random, version, 64) },
  {
    name: 'GET /similar/:sku',
    weight: 2,
    handle: (random) => void rankCandidates(scoreCandidates(embedUser(random, 32), loadItemEmbeddings(32))),
  },
];

// ---------------------------------------------------------------- storefront-web

const PRODUCT_TEMPLATE =
  '<article><h1>{{title}}</h1><p>{{description}}</p><span class="price">{{price}}</span><ul>{{reviews}}</ul></article>';

/** @param {Random} random */
function renderProductPage(random) {
  const reviews = Array.from(
    { length: 40 },
    (_, i) => `<li>Review ${i}: ${'great product '.repeat(1 + Math.floor(random() * 8))}</li>`,
  ).join('');
  /** @type {Record<string, string>} */
  const values = {
    title: `Product ${Math.floor(random() * 1e5)}`,
    description: 'A fine thing. '.repeat(30),
    price: `${(random() * 100).toFixed(2)} EUR`,
    reviews,
  };
  let html = '';
  for (let i = 0; i < 10; i++) html = PRODUCT_TEMPLATE.replace(/\{\{(\w+)\}\}/g, (_, key) => values[key] ?? '');
  return html;
}

/** @param {string} html */
function compressResponse(html) {
  return zlib.gzipSync(html.repeat(8), { level: 6 });
}

/** @param {Random} random */
function highlightSearchTerms(random) {
  const text = 'Organic cotton t-shirt, slim fit, available in blue, green and red. Machine washable. '.repeat(60);
  const term = ['cotton', 'slim', 'blue', 'washable'][Math.floor(random() * 4)] ?? 'cotton';
  let out = text;
  for (let i = 0; i < 15; i++) out = text.replace(new RegExp(`\\b(${term})\\b`, 'gi'), '<mark>$1</mark>');
  return out;
}

/** @type {Endpoint[]} */
const storefrontWeb = [
  { name: 'GET /product/:id', weight: 5, handle: (random) => void compressResponse(renderProductPage(random)) },
  { name: 'GET /search', weight: 3, handle: (random) => void highlightSearchTerms(random) },
];

// ---------------------------------------------------------------- search (not in the catalog: shows up as __unowned__)

/** @param {Random} random */
function tokenizeDocuments(random) {
  const words = [];
  const doc = 'the quick brown fox jumps over the lazy dog while 42 users search for shoes-and-socks, size: 43 '.repeat(
    40,
  );
  for (const match of doc.matchAll(/[a-z]+(?:-[a-z]+)*|\d+/g)) words.push(match[0]);
  return words.length + random();
}

/** @param {Random} random */
function buildInvertedIndex(random) {
  /** @type {Map<string, number[]>} */
  const index = new Map();
  for (let doc = 0; doc < 200; doc++) {
    for (let w = 0; w < 30; w++) {
      const word = `w${Math.floor(random() * 300)}`;
      const postings = index.get(word) ?? [];
      postings.push(doc);
      index.set(word, postings);
    }
  }
  for (const postings of index.values()) postings.sort(ascending);
  return index.size;
}

/** @type {Endpoint[]} */
const search = [
  { name: 'GET /search', weight: 4, handle: (random) => void tokenizeDocuments(random) },
  { name: 'job reindex', weight: 1, handle: (random) => void buildInvertedIndex(random) },
];

/**
 * The demo services. `versions[i]` is the version deployed in demo window i; names match
 * catalog/components.yaml except `search`, which is deliberately missing from the catalog.
 * @type {Record<string, { endpoints: Endpoint[], versions: string[] }>}
 */
const SERVICES = {
  checkout: { endpoints: checkout, versions: ['1.14.0', '1.14.0', '1.14.0', '1.15.0', '1.15.0', '1.15.0'] },
  'payments-api': { endpoints: paymentsApi, versions: ['2.3.1', '2.3.1', '2.3.1', '2.3.1', '2.3.1', '2.3.1'] },
  ledger: { endpoints: ledger, versions: ['0.9.4', '0.9.4', '0.9.4', '0.9.4', '0.9.4', '0.9.4'] },
  recommendations: { endpoints: recommendations, versions: ['3.1.0', '3.1.0', '3.2.0', '3.2.0', '3.2.0', '3.2.0'] },
  'storefront-web': { endpoints: storefrontWeb, versions: ['5.0.2', '5.0.2', '5.0.2', '5.0.2', '5.0.3', '5.0.3'] },
  search: { endpoints: search, versions: ['0.1.0', '0.1.0', '0.1.0', '0.1.0', '0.1.0', '0.1.0'] },
};

/** Tenants of the demo fleet with their share of requests. */
const TENANTS = [
  { name: 'acme-retail', weight: 6 },
  { name: 'globex', weight: 3 },
  { name: 'initech', weight: 1 },
];

module.exports = { SERVICES, TENANTS };
