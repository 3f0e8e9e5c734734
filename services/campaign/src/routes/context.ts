import type { Store } from '@relais/store';
import type { Logger } from '@relais/telemetry';

/** What every route group needs; the clock is injected so schedules are testable. */
export interface RouteDeps {
  store: Store;
  logger: Logger;
  now: () => Date;
}
