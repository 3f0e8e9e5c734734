export {
  duration,
  rate,
  byteSize,
  parseDuration,
  parseRate,
  parseByteSize,
  type Rate,
} from './units';
export { envVarFor, toEnvSegment, listLeaves, type ConfigLeaf, type LeafKind } from './env';
export {
  loadConfig,
  configProblems,
  configError,
  formatConfigError,
  checkConfigRequested,
  CONFIG_FILE_ENV,
  type LoadConfigOptions,
  type ConfigProblem,
} from './load';
export {
  redactConfig,
  redactUrlPasswords,
  printEffectiveConfig,
  isSecretPath,
  SECRET_KEY_PATTERN,
} from './redact';
export {
  kernelConfigSchema,
  withModeCheck,
  mode,
  url,
  LOG_LEVELS,
  type KernelConfig,
  type KernelDefaults,
  type Mode,
} from './kernel';
