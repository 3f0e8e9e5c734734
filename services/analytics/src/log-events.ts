/**
 * Every `event.action` this service logs, with when it is written. Per-message outcomes are
 * never logged one by one: they are rows and counters, read through the stats API.
 */
export const ANALYTICS_LOG_EVENTS = {
  'analytics.outcome_unknown_message':
    'A delivery event named a message this tenant does not have (transactional or foreign).',
  'analytics.campaign_completed':
    'The completion sweep found nothing in flight and completed a campaign (campaign.completed enqueued).',
  'analytics.completion_failed': 'A completion sweep failed; the next tick tries again.',
  'analytics.breaker_tripped':
    'A circuit breaker tripped: a campaign slice (provider or pool) is over its bounce or complaint threshold with confidence; campaign.pause sent.',
  'analytics.breaker_sweep_failed': 'A circuit breaker sweep failed; the next tick tries again.',
  'analytics.request.failed': 'A stats API request failed with a 5xx status.',
  'analytics.unsubscribe_refused':
    'A one-click unsubscribe POST carried a token relais did not sign (forged or edited); nothing changed.',
  'analytics.tracking_link_refused':
    'A click URL carried a token relais did not sign, an open token, or an expired one: 404 page, no redirect.',
  'analytics.engagement_record_failed':
    'An open or click could not be recorded; the pixel or redirect was still served.',
  'analytics.elasticsearch_unavailable':
    'A bulk request to Elasticsearch failed (first of an outage); events stay queued and are retried with backoff.',
  'analytics.elasticsearch_recovered':
    'Elasticsearch answered again after failed requests; the backlog is being shipped.',
  'analytics.elasticsearch_queue_full':
    'The in-memory Elasticsearch queue hit its bound (once per outage); the oldest events are dropped and counted.',
  'analytics.elasticsearch_rejected':
    'Elasticsearch refused some events for good (mapping or validation error); they are not retried.',
  'analytics.elasticsearch_lost_on_close':
    'Events still queued for Elasticsearch at shutdown could not be shipped.',
  'analytics.elasticsearch_templates_installed':
    'The events ILM policy, component templates and index template were installed or updated.',
} as const;

/** One of the codes above. */
export type AnalyticsLogEvent = keyof typeof ANALYTICS_LOG_EVENTS;
