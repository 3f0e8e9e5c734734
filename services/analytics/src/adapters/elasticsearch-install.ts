import type { Client, estypes } from '@elastic/elasticsearch';
import type { Logger } from '@relais/telemetry';
import {
  COMPONENT_TEMPLATES,
  ILM_POLICY,
  ILM_POLICY_NAME,
  INDEX_TEMPLATE,
  INDEX_TEMPLATE_NAME,
} from '../elasticsearch/templates';
import type { AnalyticsLogEvent } from '../log-events';

/**
 * Installs (or updates: every call is a PUT) the ILM policy, the component templates and
 * then the index template that composes them, in that order since each refers to the
 * previous. Idempotent; a failure throws and the shipper retries it before its first bulk.
 */
export async function installElasticsearchAssets(client: Client, logger: Logger): Promise<void> {
  await client.ilm.putLifecycle({
    name: ILM_POLICY_NAME,
    ...(ILM_POLICY as unknown as Omit<estypes.IlmPutLifecycleRequest, 'name'>),
  });
  for (const [name, body] of Object.entries(COMPONENT_TEMPLATES)) {
    await client.cluster.putComponentTemplate({
      name,
      ...(body as unknown as Omit<estypes.ClusterPutComponentTemplateRequest, 'name'>),
    });
  }
  await client.indices.putIndexTemplate({
    name: INDEX_TEMPLATE_NAME,
    ...(INDEX_TEMPLATE as Omit<estypes.IndicesPutIndexTemplateRequest, 'name'>),
  });
  logger.info(
    {
      'event.action': 'analytics.elasticsearch_templates_installed' satisfies AnalyticsLogEvent,
    },
    'Elasticsearch events templates installed',
  );
}
