/**
 * The Kibana saved objects of deploy/kibana/relais.ndjson: a data view over the events
 * data streams, Lens visualizations and four dashboards. Generated here (a Lens state is
 * long and repetitive) by `pnpm --filter @relais/analytics kibana:objects`; a test checks
 * the file parses and that every reference resolves.
 */
import { writeFile, mkdir } from 'node:fs/promises';

const DATA_VIEW = 'relais-events';
const LAYER = 'layer1';

type Column = Record<string, unknown>;

const time: Column = {
  label: '@timestamp',
  dataType: 'date',
  operationType: 'date_histogram',
  sourceField: '@timestamp',
  isBucketed: true,
  scale: 'interval',
  params: { interval: 'auto', includeEmptyRows: true, dropPartials: false },
};
const count = (label: string, kql?: string): Column => ({
  label,
  customLabel: true,
  dataType: 'number',
  operationType: 'count',
  sourceField: '___records___',
  isBucketed: false,
  scale: 'ratio',
  params: { emptyAsNull: false },
  ...(kql && { filter: { query: kql, language: 'kuery' } }),
});
const sum = (label: string, field: string, kql?: string): Column => ({
  ...count(label, kql),
  operationType: 'sum',
  sourceField: field,
});
const terms = (label: string, field: string, orderBy: string, size = 10): Column => ({
  label,
  customLabel: true,
  dataType: 'string',
  operationType: 'terms',
  sourceField: field,
  isBucketed: true,
  scale: 'ordinal',
  params: {
    size,
    orderBy: { type: 'column', columnId: orderBy },
    orderDirection: 'desc',
    otherBucket: true,
    missingBucket: false,
  },
});

interface Lens {
  id: string;
  title: string;
  description: string;
  kql?: string;
  columns: Record<string, Column>;
  visualizationType: 'lnsXY' | 'lnsDatatable' | 'lnsMetric';
  visualization: Record<string, unknown>;
}

function lens(spec: Lens) {
  return {
    type: 'lens',
    id: spec.id,
    attributes: {
      title: spec.title,
      description: spec.description,
      visualizationType: spec.visualizationType,
      state: {
        datasourceStates: {
          formBased: {
            layers: {
              [LAYER]: {
                columns: spec.columns,
                columnOrder: Object.keys(spec.columns),
                incompleteColumns: {},
              },
            },
          },
        },
        visualization: spec.visualization,
        query: { query: spec.kql ?? '', language: 'kuery' },
        filters: [],
        internalReferences: [],
        adHocDataViews: {},
      },
    },
    references: [
      { type: 'index-pattern', id: DATA_VIEW, name: `indexpattern-datasource-layer-${LAYER}` },
    ],
  };
}

/** A line (or stacked bar) chart over time: `y` columns, optionally split by `split`. */
function overTime(
  id: string,
  title: string,
  description: string,
  options: {
    kql?: string;
    y: Record<string, Column>;
    split?: Column;
    seriesType?: 'line' | 'bar_stacked' | 'bar_percentage_stacked';
  },
) {
  const columns: Record<string, Column> = {
    ...(options.split && { split: options.split }),
    time,
    ...options.y,
  };
  const seriesType = options.seriesType ?? 'line';
  return lens({
    id,
    title,
    description,
    ...(options.kql && { kql: options.kql }),
    columns,
    visualizationType: 'lnsXY',
    visualization: {
      legend: { isVisible: true, position: 'right' },
      valueLabels: 'hide',
      preferredSeriesType: seriesType,
      layers: [
        {
          layerId: LAYER,
          layerType: 'data',
          seriesType,
          xAccessor: 'time',
          accessors: Object.keys(options.y),
          ...(options.split && { splitAccessor: 'split' }),
        },
      ],
    },
  });
}

function table(
  id: string,
  title: string,
  description: string,
  kql: string,
  columns: Record<string, Column>,
) {
  return lens({
    id,
    title,
    description,
    kql,
    columns,
    visualizationType: 'lnsDatatable',
    visualization: {
      layerId: LAYER,
      layerType: 'data',
      columns: Object.keys(columns).map((columnId) => ({ columnId })),
    },
  });
}

function metric(id: string, title: string, column: Column) {
  return lens({
    id,
    title,
    description: title,
    columns: { value: column },
    visualizationType: 'lnsMetric',
    visualization: { layerId: LAYER, layerType: 'data', metricAccessor: 'value' },
  });
}

const DELIVERY = 'event.action : delivery.*';
const provider = (orderBy: string) => terms('Provider', 'relais.provider', orderBy);
const pool = (orderBy: string) => terms('IP pool', 'relais.pool', orderBy);

const visualizations = [
  overTime(
    'relais-delivered-by-provider',
    'Delivered by provider',
    'Accepted messages (2xx) per provider.',
    {
      kql: 'event.action : "delivery.delivered"',
      y: { n: count('Delivered') },
      split: provider('n'),
    },
  ),
  overTime(
    'relais-bounced-by-provider',
    'Bounces by provider',
    'Bounced and expired messages per provider.',
    {
      kql: 'event.action : ("delivery.bounced" or "delivery.expired")',
      y: { n: count('Bounced') },
      split: provider('n'),
      seriesType: 'bar_stacked',
    },
  ),
  overTime(
    'relais-outcomes-by-pool',
    'Delivery outcomes share',
    'Delivered / deferred / bounced share of delivery events over time.',
    {
      kql: DELIVERY,
      y: { n: count('Events') },
      split: terms('Outcome', 'event.action', 'n', 5),
      seriesType: 'bar_percentage_stacked',
    },
  ),
  overTime('relais-delivered-by-pool', 'Delivered by IP pool', 'Accepted messages per IP pool.', {
    kql: 'event.action : "delivery.delivered"',
    y: { n: count('Delivered') },
    split: pool('n'),
  }),
  metric(
    'relais-metric-delivered',
    'Delivered',
    count('Delivered', 'event.action : "delivery.delivered"'),
  ),
  metric(
    'relais-metric-human-opens',
    'Human opens',
    count('Human opens', 'event.action : "engagement.opened" and relais.machine : false'),
  ),
  metric(
    'relais-metric-complaints',
    'Complaints',
    count('Complaints', 'event.action : "complaint.received"'),
  ),
  metric(
    'relais-metric-revenue',
    'Revenue',
    sum('Revenue', 'relais.amount', 'event.action : "engagement.converted"'),
  ),
  table(
    'relais-campaign-kpis',
    'Campaign KPIs',
    'Per campaign: delivery, engagement and conversion counts (rates: the KPI API).',
    'relais.campaign_id : *',
    {
      campaign: terms('Campaign', 'relais.campaign_id', 'delivered', 50),
      delivered: count('Delivered', 'event.action : "delivery.delivered"'),
      deferred: count('Deferrals', 'event.action : "delivery.deferred"'),
      bounced: count('Bounced', 'event.action : "delivery.bounced"'),
      complaints: count('Complaints', 'event.action : "complaint.received"'),
      opens: count('Opens (all)', 'event.action : "engagement.opened"'),
      humanOpens: count(
        'Human opens',
        'event.action : "engagement.opened" and relais.machine : false',
      ),
      clicks: count(
        'Human clicks',
        'event.action : "engagement.clicked" and relais.machine : false',
      ),
      unsubscribes: count('Unsubscribes', 'event.action : "engagement.unsubscribed"'),
      conversions: count('Conversions', 'event.action : "engagement.converted"'),
      revenue: sum('Revenue', 'relais.amount', 'event.action : "engagement.converted"'),
    },
  ),
  overTime(
    'relais-engagement-over-time',
    'Engagement over time',
    'Human and machine opens, human clicks.',
    {
      y: {
        human: count(
          'Human opens',
          'event.action : "engagement.opened" and relais.machine : false',
        ),
        machine: count(
          'Machine opens',
          'event.action : "engagement.opened" and relais.machine : true',
        ),
        clicks: count(
          'Human clicks',
          'event.action : "engagement.clicked" and relais.machine : false',
        ),
      },
    },
  ),
  overTime(
    'relais-deferrals-by-provider',
    'Deferrals by provider',
    'Temporary failures: a provider throttling relais shows here first.',
    {
      kql: 'event.action : "delivery.deferred"',
      y: { n: count('Deferrals') },
      split: provider('n'),
    },
  ),
  overTime(
    'relais-throttle-replies-by-pool',
    'Rate-limit replies by pool',
    '421 / 451 replies and rate-limit reasons per IP pool: where the relay slows down.',
    {
      kql: 'event.action : "delivery.deferred" and (relais.reply.code : (421 or 451) or event.reason.text : (rate or throttl* or "too many"))',
      y: { n: count('Throttling replies') },
      split: pool('n'),
      seriesType: 'bar_stacked',
    },
  ),
  table(
    'relais-deferral-reasons',
    'Deferral reasons',
    'Top deferral reasons by provider and pool.',
    'event.action : "delivery.deferred"',
    {
      provider: provider('n'),
      pool: pool('n'),
      reason: terms('Reason', 'event.reason', 'n', 20),
      n: count('Deferrals'),
    },
  ),
  table(
    'relais-paused-slices',
    'Paused slices',
    'Campaigns paused by a person or a circuit breaker, with the slice and the reason.',
    'event.action : "campaign.paused"',
    {
      campaign: terms('Campaign', 'relais.campaign_id', 'n', 50),
      provider: terms('Provider', 'relais.pause.scope.provider', 'n'),
      pool: terms('IP pool', 'relais.pause.scope.pool', 'n'),
      reason: terms('Reason', 'event.reason', 'n', 20),
      n: count('Pauses'),
    },
  ),
  overTime(
    'relais-complaints-by-provider',
    'Complaints by provider',
    'Feedback-loop complaints; providers act above 0.3 % of delivered.',
    {
      kql: 'event.action : "complaint.received"',
      y: { n: count('Complaints') },
      split: provider('n'),
      seriesType: 'bar_stacked',
    },
  ),
  overTime(
    'relais-pauses-over-time',
    'Pauses and resumes',
    'Campaign pauses (automatic or not) and resumes.',
    {
      kql: 'event.action : ("campaign.paused" or "campaign.resumed")',
      y: { n: count('Events') },
      split: terms('Action', 'event.action', 'n', 3),
      seriesType: 'bar_stacked',
    },
  ),
];

function dashboard(
  id: string,
  title: string,
  description: string,
  panels: { id: string; w: number; h: number }[],
) {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  const layout = panels.map((panel, index) => {
    if (x + panel.w > 48) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const gridData = { x, y, w: panel.w, h: panel.h, i: String(index) };
    x += panel.w;
    rowHeight = Math.max(rowHeight, panel.h);
    return {
      type: 'lens',
      panelIndex: String(index),
      gridData,
      embeddableConfig: { enhancements: {} },
      panelRefName: `panel_${index}`,
    };
  });
  return {
    type: 'dashboard',
    id,
    attributes: {
      title,
      description,
      panelsJSON: JSON.stringify(layout),
      optionsJSON: JSON.stringify({ useMargins: true, syncColors: true, hidePanelTitles: false }),
      timeRestore: true,
      timeFrom: 'now-24h',
      timeTo: 'now',
      refreshInterval: { pause: false, value: 30_000 },
      kibanaSavedObjectMeta: {
        searchSourceJSON: JSON.stringify({ query: { query: '', language: 'kuery' }, filter: [] }),
      },
    },
    references: panels.map((panel, index) => ({
      name: `panel_${index}`,
      type: 'lens',
      id: panel.id,
    })),
  };
}

const half = (id: string) => ({ id, w: 24, h: 14 });
const full = (id: string) => ({ id, w: 48, h: 15 });
const tile = (id: string) => ({ id, w: 12, h: 6 });

const dashboards = [
  dashboard(
    'relais-deliverability',
    'relais — deliverability by provider and pool',
    'Delivered, bounced and outcome shares over time, by mailbox provider and IP pool.',
    [
      half('relais-delivered-by-provider'),
      half('relais-bounced-by-provider'),
      half('relais-delivered-by-pool'),
      half('relais-outcomes-by-pool'),
    ],
  ),
  dashboard(
    'relais-campaign-kpis',
    'relais — campaign KPIs',
    'Delivery, engagement (human opens apart) and conversions per campaign.',
    [
      tile('relais-metric-delivered'),
      tile('relais-metric-human-opens'),
      tile('relais-metric-complaints'),
      tile('relais-metric-revenue'),
      full('relais-campaign-kpis'),
      full('relais-engagement-over-time'),
    ],
  ),
  dashboard(
    'relais-throttling',
    'relais — relay throttling',
    'What receiving servers answer when they slow relais down: deferrals, 421/451 replies and reasons by provider and pool.',
    [
      half('relais-deferrals-by-provider'),
      half('relais-throttle-replies-by-pool'),
      full('relais-deferral-reasons'),
    ],
  ),
  dashboard(
    'relais-anomalies',
    'relais — anomalies and paused slices',
    'Bounce and complaint spikes by provider, and the campaign slices paused because of them.',
    [
      full('relais-paused-slices'),
      half('relais-bounced-by-provider'),
      half('relais-complaints-by-provider'),
      full('relais-pauses-over-time'),
    ],
  ),
];

const dataView = {
  type: 'index-pattern',
  id: DATA_VIEW,
  attributes: {
    title: 'relais-events-*',
    name: 'relais events',
    timeFieldName: '@timestamp',
    allowNoIndex: true,
  },
  references: [],
};

/**
 * The saved-object format version of each type the objects are written in: Kibana runs
 * only the migrations after it on import (8.9 shapes: Lens `formBased`, panelsJSON).
 */
const TYPE_VERSIONS: Record<string, string> = {
  'index-pattern': '8.0.0',
  lens: '8.9.0',
  dashboard: '8.9.0',
};

/** Every saved object, referenced ones first (Kibana imports in file order). */
export const KIBANA_OBJECTS: {
  type: string;
  id: string;
  attributes: unknown;
  references: { type: string; id: string; name: string }[];
}[] = [dataView, ...visualizations, ...dashboards].map((object) => ({
  ...object,
  coreMigrationVersion: '8.8.0',
  typeMigrationVersion: TYPE_VERSIONS[object.type],
  managed: false,
}));

if (process.argv[1]?.endsWith('kibana-objects.ts')) {
  const dir = new URL('../../../deploy/kibana/', import.meta.url);
  await mkdir(dir, { recursive: true });
  await writeFile(
    new URL('relais.ndjson', dir),
    KIBANA_OBJECTS.map((object) => JSON.stringify(object)).join('\n') + '\n',
  );
}
