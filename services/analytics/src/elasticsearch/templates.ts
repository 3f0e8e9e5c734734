/**
 * The Elasticsearch side of the events data stream, as code the service installs and as
 * the files in `deploy/elasticsearch/` (written from here by `pnpm es:assets`, checked equal
 * by a test): an ILM policy, component templates (settings, ECS fields, relais fields) and
 * the index template that makes every `relais-events-<namespace>` a data stream.
 */

/** The data stream events of a platform namespace go to. */
export function eventsDataStream(namespace: string): string {
  return `relais-events-${namespace}`;
}

export const ILM_POLICY_NAME = 'relais-events';
export const INDEX_TEMPLATE_NAME = 'relais-events';

/** Hot for a day or 50 GB per shard, warm after 7 days, deleted after 90. */
export const ILM_POLICY = {
  policy: {
    _meta: { description: 'relais events: delivery, feedback, engagement, campaign life' },
    phases: {
      hot: {
        actions: {
          rollover: { max_age: '1d', max_primary_shard_size: '50gb' },
          set_priority: { priority: 100 },
        },
      },
      warm: {
        min_age: '7d',
        actions: { forcemerge: { max_num_segments: 1 }, set_priority: { priority: 50 } },
      },
      delete: { min_age: '90d', actions: { delete: {} } },
    },
  },
};

const keyword = { type: 'keyword', ignore_above: 1024 } as const;
const text = { type: 'match_only_text' } as const;

/** Component templates by name. */
export const COMPONENT_TEMPLATES = {
  'relais-events-settings': {
    template: {
      settings: {
        'index.lifecycle.name': ILM_POLICY_NAME,
        'index.codec': 'best_compression',
        'index.mapping.total_fields.limit': 2000,
      },
    },
    _meta: { description: 'relais events: lifecycle and index settings' },
  },
  'relais-events-ecs': {
    template: {
      mappings: {
        dynamic_templates: [
          { strings_as_keyword: { match_mapping_type: 'string', mapping: keyword } },
        ],
        properties: {
          '@timestamp': { type: 'date' },
          data_stream: {
            properties: {
              type: { type: 'constant_keyword' },
              dataset: { type: 'constant_keyword' },
              namespace: { type: 'constant_keyword' },
            },
          },
          ecs: { properties: { version: keyword } },
          event: {
            properties: {
              id: keyword,
              action: keyword,
              kind: keyword,
              category: keyword,
              type: keyword,
              outcome: keyword,
              dataset: keyword,
              reason: { ...keyword, fields: { text } },
            },
          },
          email: {
            properties: {
              local_id: keyword,
              message_id: keyword,
              direction: keyword,
              subject: { ...keyword, fields: { text } },
              from: { properties: { address: keyword } },
              to: { properties: { address: keyword, domain: keyword } },
            },
          },
          source: { properties: { ip: { type: 'ip' } } },
          url: { properties: { domain: keyword, original: keyword } },
          user_agent: {
            properties: {
              original: { ...keyword, fields: { text } },
              name: keyword,
              device: { properties: { name: keyword } },
            },
          },
        },
      },
    },
    _meta: { description: 'relais events: the Elastic Common Schema fields they use' },
  },
  'relais-events-relais': {
    template: {
      mappings: {
        properties: {
          relais: {
            properties: {
              tenant_id: keyword,
              campaign_id: keyword,
              message_id: keyword,
              variant: keyword,
              provider: keyword,
              recipient_domain: keyword,
              pool: keyword,
              attempt: { type: 'short' },
              retry_at: { type: 'date' },
              reply: { properties: { code: { type: 'short' }, enhanced: keyword } },
              bounce: {
                properties: { hard: { type: 'boolean' }, confidence: { type: 'half_float' } },
              },
              machine: { type: 'boolean' },
              feedback_type: keyword,
              class: keyword,
              confidence: { type: 'half_float' },
              amount: { type: 'scaled_float', scaling_factor: 100 },
              currency: keyword,
              attribution: keyword,
              conversion_id: keyword,
              pause: {
                properties: { scope: { properties: { provider: keyword, pool: keyword } } },
              },
            },
          },
        },
      },
    },
    _meta: { description: 'relais events: relais-specific fields (relais.*)' },
  },
};

/** The index template: every `relais-events-*` is a data stream built of the components. */
export const INDEX_TEMPLATE = {
  index_patterns: ['relais-events-*'],
  data_stream: {},
  priority: 200,
  composed_of: Object.keys(COMPONENT_TEMPLATES),
  _meta: { description: 'relais events data streams (relais-events-<namespace>)' },
};

/** Every asset as the file `deploy/elasticsearch/` holds it. */
export const ELASTICSEARCH_ASSET_FILES: Record<string, unknown> = {
  'ilm-policy.relais-events.json': ILM_POLICY,
  ...Object.fromEntries(
    Object.entries(COMPONENT_TEMPLATES).map(([name, body]) => [
      `component-template.${name}.json`,
      body,
    ]),
  ),
  'index-template.relais-events.json': INDEX_TEMPLATE,
};
