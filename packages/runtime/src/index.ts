export { createServiceRuntime, type ServiceRuntime, type ServiceRuntimeOptions } from './runtime';
export { runMain, EXIT_CONFIG_INVALID, type RunMainOptions } from './main';
export { runReadiness, type ReadinessCheck, type ReadinessReport } from './probes';
export {
  SHUTDOWN_PHASES,
  IN_FLIGHT_HOOK,
  type ShutdownPhase,
  type ShutdownHook,
  type ShutdownOutcome,
} from './shutdown';
export { RUNTIME_EVENTS, type RuntimeEvent } from './events';
