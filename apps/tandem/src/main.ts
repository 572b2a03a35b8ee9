import { ConfigError, loadConfig } from './config';
import { DataDirLocked } from './data-dir-lock';
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
  // A second Tandem on the same data directory, or on a port in use, is told so in words (PortInUse, DataDirLocked).
  const hint = error instanceof DataDirLocked ? ', or set TANDEM_DATA_DIR to another directory' : '';
  process.stderr.write(`Tandem failed to start: ${error instanceof Error ? error.message : String(error)}${hint}\n`);
  process.exit(1);
});
