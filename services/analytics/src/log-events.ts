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
  'analytics.request.failed': 'A stats API request failed with a 5xx status.',
  'analytics.unsubscribe_refused':
    'A one-click unsubscribe POST carried a token relais did not sign (forged or edited); nothing changed.',
  'analytics.tracking_link_refused':
    'A click URL carried a token relais did not sign, an open token, or an expired one: 404 page, no redirect.',
  'analytics.engagement_record_failed':
    'An open or click could not be recorded; the pixel or redirect was still served.',
} as const;

/** One of the codes above. */
export type AnalyticsLogEvent = keyof typeof ANALYTICS_LOG_EVENTS;
