/**
 * `npm run scenario`: the insulin delegation story, end to end, against a running `npm start`.
 *
 *   TANDEM_TEST_CLOCK=true npm start      # in one terminal (embedded mode, demo data)
 *   npm run scenario                      # in another
 *
 * A nurse trains Amira on insulin, observes three supervised doses and signs her off; delegates
 * Mr Jones's evening insulin (10 units); Mr Jones agrees and Amira accepts. Amira records a blood
 * glucose of 3.4 mmol/L: the hypo protocol prompt starts and the nurse is alerted; nobody
 * acknowledges, and 30 minutes later (moved on with the server's test clock) it goes to the next
 * tier. Then the Task, Communication and Flag are read as FHIR and printed.
 *
 * Tokens come from the embedded mode's development issuer (`$TANDEM_DATA_DIR/dev-issuer.json`, as
 * `npm run token`; TANDEM_DATA_DIR resolved as `npm start` resolves it). The test clock (POST /admin/clock/advance, system token) exists only
 * when the server runs in the embedded mode with TANDEM_TEST_CLOCK=true. Run it again and the
 * training and delegation are kept (replayed), while the glucose readings are new.
 */
import { resolveDataDir } from '../apps/tandem/src/config';
import { mintToken } from '@tandem/auth';
import { randomUUID } from 'node:crypto';
import { runInsulinScenario, ScenarioError } from '../apps/tandem/src/demo/insulin-scenario';

const url = (process.env.TANDEM_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const dataDir = resolveDataDir(process.env.TANDEM_DATA_DIR);

const main = async () => {
  try {
    const health = await fetch(`${url}/health`);
    if (!health.ok) throw new ScenarioError(`${url}/health answered ${health.status}`);
  } catch (error) {
    if (error instanceof ScenarioError) throw error;
    throw new ScenarioError(`Nothing answers at ${url}: start Tandem first (TANDEM_TEST_CLOCK=true npm start), or set TANDEM_URL`);
  }
  await runInsulinScenario({
    url,
    token: (claims) => mintToken(claims, { dataDir }),
    say: (line) => process.stdout.write(`${line}\n`),
    runId: randomUUID().slice(0, 8),
  });
};

main().catch((error: unknown) => {
  process.stderr.write(`\nThe scenario stopped: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
