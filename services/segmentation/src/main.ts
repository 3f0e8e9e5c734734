/**
 * The segmentation process: owns turning launched campaigns into message rows and
 * dispatcher batches. Config is validated before any connection is opened.
 */
import { checkConfigRequested, loadConfig, printEffectiveConfig } from '@relais/config';
import { startPlatform } from '@relais/platform';
import { runMain } from '@relais/runtime';
import { segmentationConfigSchema, startSegmentation } from './index';

await runMain(
  async () => {
    const config = loadConfig(segmentationConfigSchema);
    if (checkConfigRequested()) {
      printEffectiveConfig(config);
      process.exit(0);
    }
    const platform = await startPlatform('segmentation', config);
    await startSegmentation(platform, config);
    return platform.runtime;
  },
  { service: 'segmentation' },
);
