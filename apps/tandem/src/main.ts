import { ConfigError, loadConfig } from './config';
import { startTandem } from './tandem';

const main = async () => {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const tandem = await startTandem(config);
  const shutdown = () => {
    tandem.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
};

main().catch((error: unknown) => {
  process.stderr.write(`Tandem failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
