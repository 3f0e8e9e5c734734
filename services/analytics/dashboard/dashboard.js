/* global document, location, history, sessionStorage, fetch, URLSearchParams, setTimeout, clearTimeout, window -- browser globals: this module runs in the page */
// The relais dashboard: polls GET /v1/dashboard with the tenant's API key and renders it.
// The key comes from the URL fragment (`#key=…`, which browsers never send to a server) or
// the form, is kept in sessionStorage (this tab only) and leaves the page only as the
// Authorization header of same-origin API calls. Text is set with textContent, never HTML.
import { drawStackedBars } from './charts.js';

const POLL_MS = 2000;
const STORAGE_KEY = 'relais.dashboard.key';

const $ = (id) => document.getElementById(id);
const number = new Intl.NumberFormat('en-US');
const money = new Intl.NumberFormat('en-US', {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
const percent = (share) => `${(share * 100).toFixed(share > 0 && share < 0.001 ? 2 : 1)} %`;
const time = (iso) => new Date(iso).toLocaleTimeString('en-GB');

/** An element with attributes and children (strings become text nodes). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'className') element.className = value;
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  element.append(...children.filter((c) => c !== undefined && c !== null));
  return element;
}

function takeKeyFromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const key = params.get('key');
  if (key) {
    sessionStorage.setItem(STORAGE_KEY, key);
    // Out of the address bar, history and any screenshot of it.
    history.replaceState(null, '', location.pathname + location.search);
  }
}

const apiKey = () => sessionStorage.getItem(STORAGE_KEY);

async function api(method, path, body) {
  const response = await fetch(`/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey()}`,
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'omit',
    cache: 'no-store',
  });
  const payload = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(payload?.error?.message ?? `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return payload;
}

function setStatus(text, stale = false) {
  const status = $('status');
  status.textContent = text;
  status.classList.toggle('stale', stale);
}

function showForm(message = '') {
  $('board').hidden = true;
  $('sign-out').hidden = true;
  $('key-form').hidden = false;
  $('key-error').textContent = message;
  setStatus('Not signed in');
  $('key-input').focus();
}

// ---- rendering -------------------------------------------------------------------------

const KPI_TILES = [
  { metric: 'sent', label: 'Sent' },
  { metric: 'delivered', label: 'Delivered', rate: 'deliveryRate', of: 'of sent' },
  { metric: 'bounced_hard', label: 'Hard bounces', rate: 'hardBounceRate', of: 'of sent' },
  { metric: 'bounced_soft', label: 'Soft bounces' },
  { metric: 'complaints', label: 'Complaints', rate: 'complaintRate', of: 'of delivered' },
  { metric: 'opens_human_unique', label: 'Human opens', rate: 'humanOpenRate', of: 'of delivered' },
  { metric: 'clicks_human_unique', label: 'Human clicks', rate: 'clickRate', of: 'of delivered' },
  { metric: 'unsubscribes', label: 'Unsubscribes', rate: 'unsubscribeRate', of: 'of delivered' },
  { metric: 'conversions', label: 'Conversions', rate: 'conversionRate', of: 'of delivered' },
  { metric: 'revenue', label: 'Revenue', money: true },
];

function renderKpis({ metrics, rates }) {
  $('kpis').replaceChildren(
    ...KPI_TILES.map((tile) =>
      h(
        'div',
        { className: 'tile' },
        h('p', { className: 'label', id: `kpi-label-${tile.metric}` }, tile.label),
        h(
          'p',
          {
            className: 'value',
            'data-kpi': tile.metric,
            'aria-labelledby': `kpi-label-${tile.metric}`,
          },
          tile.money ? money.format(metrics[tile.metric]) : number.format(metrics[tile.metric]),
        ),
        tile.rate
          ? h(
              'p',
              { className: 'rate', 'data-kpi-rate': tile.rate },
              `${percent(rates[tile.rate])} ${tile.of}`,
            )
          : h('p', { className: 'rate' }, '\u00a0'),
      ),
    ),
  );
}

function renderCampaigns(campaigns) {
  const body = $('campaigns').tBodies[0];
  if (campaigns.length === 0) {
    body.replaceChildren(
      h('tr', {}, h('td', { colspan: 9, className: 'empty' }, 'No campaign yet')),
    );
    return;
  }
  body.replaceChildren(
    ...campaigns.map((c) => {
      const cell = (field, value, extra = {}) =>
        h('td', { className: 'num', 'data-field': field, ...extra }, number.format(value));
      return h(
        'tr',
        { 'data-campaign-id': c.campaignId },
        h('th', { scope: 'row' }, c.name),
        h(
          'td',
          {},
          h('span', { className: `badge ${c.status}`, 'data-field': 'status' }, c.status),
          c.statusReason ? h('div', { className: 'pause-meta' }, c.statusReason) : undefined,
        ),
        h(
          'td',
          {},
          h('progress', {
            max: 1,
            value: c.progress,
            'aria-label': `${c.name}: ${percent(c.progress)} final`,
          }),
          h('span', { className: 'pct', 'data-field': 'progress' }, percent(c.progress)),
        ),
        cell('recipients', c.recipients),
        cell('delivered', c.states.delivered),
        cell('bounced', c.states.bounced),
        cell('deferred', c.states.deferred),
        cell('inFlight', c.inFlight),
        h('td', { className: 'num', 'data-field': 'deliveryRate' }, percent(c.rates.delivered)),
      );
    }),
  );
}

function renderCharts(points) {
  drawStackedBars(
    $('chart-outcomes'),
    points,
    [
      { key: 'delivered', label: 'delivered' },
      { key: 'bounced', label: 'bounced' },
    ],
    'Outcomes per minute',
  );
  drawStackedBars(
    $('chart-engagement'),
    points,
    [
      { key: 'humanOpens', label: 'human opens' },
      { key: 'humanClicks', label: 'human clicks' },
    ],
    'Human engagement per minute',
  );
}

function evidenceText(evidence) {
  return Object.entries(evidence)
    .map(([key, value]) => {
      if (typeof value === 'number' && value > 0 && value < 1) return `${key} ${percent(value)}`;
      return `${key} ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`;
    })
    .join(' · ');
}

function renderPauses(pauses) {
  const list = $('pauses');
  if (pauses.length === 0) {
    list.replaceChildren(h('li', { className: 'none' }, 'Nothing is paused.'));
    return;
  }
  list.replaceChildren(
    ...pauses.map((p) => {
      const scope = [
        p.provider ? `provider ${p.provider}` : 'every provider',
        p.pool ? `pool ${p.pool}` : 'every pool',
      ].join(', ');
      const button = h(
        'button',
        {
          type: 'button',
          className: 'resume',
          'aria-label': `Resume ${p.campaignName} (${scope})`,
        },
        'Resume',
      );
      button.addEventListener('click', () => resume(p, button));
      return h(
        'li',
        { 'data-pause-id': p.pauseId, 'data-campaign-id': p.campaignId },
        h('span', { className: 'pause-reason', 'data-field': 'reason' }, p.reason),
        button,
        h(
          'span',
          { className: 'pause-meta' },
          `${p.campaignName} — ${scope} — ${p.source === 'breaker' ? 'circuit breaker' : 'user'}${p.metric ? ` (${p.metric})` : ''}, since ${time(p.pausedAt)}`,
        ),
        Object.keys(p.evidence).length > 0
          ? h('span', { className: 'pause-evidence' }, evidenceText(p.evidence))
          : undefined,
      );
    }),
  );
}

async function resume(pause, button) {
  button.disabled = true;
  try {
    // The slice only: a campaign paused as a whole has neither provider nor pool.
    await api('POST', `/campaigns/${pause.campaignId}/resume`, {
      ...(pause.provider && { provider: pause.provider }),
      ...(pause.pool && { pool: pause.pool }),
    });
    setStatus(`Resumed ${pause.campaignName}`);
  } catch (error) {
    setStatus(`Resume of ${pause.campaignName} refused: ${error.message}`, true);
    button.disabled = false;
  }
  await refresh();
}

function renderHealth(health) {
  $('health-since').textContent = `since ${time(health.since)}`;
  const providers = $('providers').tBodies[0];
  providers.replaceChildren(
    ...(health.providers.length === 0
      ? [h('tr', {}, h('td', { colspan: 7, className: 'empty' }, 'No delivery in the window'))]
      : health.providers.map((p) =>
          h(
            'tr',
            { 'data-provider': p.provider },
            h('th', { scope: 'row' }, p.provider),
            h('td', { className: 'num' }, number.format(p.attempts)),
            h('td', { className: 'num good' }, percent(p.rates.delivered)),
            h('td', { className: 'num' }, percent(p.rates.deferred)),
            h(
              'td',
              { className: `num${p.rates.bounced >= 0.05 ? ' bad' : ''}` },
              percent(p.rates.bounced),
            ),
            h(
              'td',
              { className: `num${p.rates.complaints >= 0.003 ? ' bad' : ''}` },
              percent(p.rates.complaints),
            ),
            h(
              'td',
              { className: 'num' },
              p.learnedRatePerSecond === null ? '—' : `${p.learnedRatePerSecond.toFixed(1)}/s`,
            ),
          ),
        )),
  );
  const throttles = $('throttles').tBodies[0];
  throttles.replaceChildren(
    ...(health.throttles.length === 0
      ? [h('tr', {}, h('td', { colspan: 6, className: 'empty' }, 'Nothing learned yet'))]
      : health.throttles.map((t) =>
          h(
            'tr',
            {},
            h('td', {}, t.pool),
            h('td', {}, t.site),
            h('td', { className: 'num' }, `${t.ratePerSecond.toFixed(1)}/s`),
            h('td', { className: 'num' }, t.concurrency.toFixed(0)),
            h('td', {}, t.backoffUntil ? time(t.backoffUntil) : '—'),
            h('td', {}, time(t.updatedAt)),
          ),
        )),
  );
}

function render(snapshot) {
  renderKpis(snapshot.kpis);
  renderCharts(snapshot.series.points);
  renderCampaigns(snapshot.campaigns);
  renderPauses(snapshot.pauses);
  renderHealth(snapshot.health);
  document.body.dataset.generatedAt = snapshot.generatedAt;
}

// ---- polling ---------------------------------------------------------------------------

let timer;

async function refresh() {
  clearTimeout(timer);
  try {
    const snapshot = await api('GET', '/dashboard');
    $('key-form').hidden = true;
    $('board').hidden = false;
    $('sign-out').hidden = false;
    render(snapshot);
    setStatus(`Live · updated ${time(snapshot.generatedAt)} · every ${POLL_MS / 1000} s`);
  } catch (error) {
    if (error.status === 401) {
      sessionStorage.removeItem(STORAGE_KEY);
      showForm('That key was refused. Check it and try again.');
      return;
    }
    setStatus(`Connection problem (${error.message}); retrying`, true);
  }
  timer = setTimeout(refresh, POLL_MS);
}

function start() {
  takeKeyFromFragment();
  $('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const key = $('key-input').value.trim();
    if (!key) return;
    sessionStorage.setItem(STORAGE_KEY, key);
    $('key-input').value = '';
    void refresh();
  });
  $('sign-out').addEventListener('click', () => {
    clearTimeout(timer);
    sessionStorage.removeItem(STORAGE_KEY);
    showForm();
  });
  window.addEventListener('hashchange', () => {
    takeKeyFromFragment();
    void refresh();
  });
  if (apiKey()) void refresh();
  else showForm();
}

start();
