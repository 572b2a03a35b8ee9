import pino from 'pino';
import { ConfigError, loadConfig } from './config';
import { DataDirLocked } from './data-dir-lock';
import { seedDemoData } from './demo/demo-data';
import { startTandem } from './tandem';
import type { createRecordService } from '@tandem/record';

/** `npm run seed -- --patients N --days D`: a larger synthetic record for benchmarks and demos. */
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`--${name} must be a whole number of 1 or more\n`);
    process.exit(1);
  }
  return value;
};

const main = async () => {
  const patients = arg('patients', 12);
  const days = arg('days', 21);
  const config = { ...loadConfig(), PORT: 0, TANDEM_DEMO_DATA: false, TANDEM_SERVICES: ['record' as const] };
  // The embedded store admits one process: seeding under a running server would write into a copy that is lost.
  const tandem = await startTandem(config, pino({ level: 'warn' }), { holder: 'npm run seed' });
  const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
  const started = Date.now();
  await seedDemoData(record.care, {
    patients,
    days,
    now: new Date(),
    seed: Date.now() % 100_000,
    onPatient: (done, total) => process.stdout.write(`\rseeded ${done}/${total} people`),
  });
  process.stdout.write(`\n${patients} people x ${days} days in ${((Date.now() - started) / 1000).toFixed(1)} s; head position ${await tandem.storage.store.headPosition()}\n`);
  await tandem.stop();
};

main().catch((error: unknown) => {
  if (error instanceof DataDirLocked) process.stderr.write(`${error.message}, then run npm run seed again (or seed another TANDEM_DATA_DIR).\n`);
  else process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
  process.exit(1);
});
