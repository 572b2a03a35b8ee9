import { spawnSync } from 'node:child_process';
import { createAccessControl, DevIssuer, sharedRateLimitStore, TooManyRequestsError, type SharedRateLimitStore } from '../src';

/**
 * The per-user limit with its counters in Redis (ADR 0017, hazard O4): two access controls on one
 * Redis (two processes) count a user once; with Redis unreachable each still holds the limit in
 * its own memory, and nothing is refused for the outage itself.
 */
const redisUrl = process.env.TANDEM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const answers = (() => {
  const { hostname, port } = new URL(redisUrl);
  const probe = `const s=require('node:net').connect(${Number(port || 6379)},${JSON.stringify(hostname)},()=>s.write('PING\\r\\n'));s.setTimeout(2000,()=>process.exit(1));s.on('data',d=>process.exit(String(d).startsWith('+PONG')?0:1));s.on('error',()=>process.exit(1));`;
  return spawnSync(process.execPath, ['-e', probe], { timeout: 5000 }).status === 0;
})();
if (!answers) process.stdout.write(`rate limits shared through Redis skipped: Redis does not answer at ${redisUrl} (.ci/run starts redis-server).\n`);

const refused = async (work: Promise<unknown>) => work.then(() => false, (error: unknown) => { if (error instanceof TooManyRequestsError) return true; throw error; });

describe('per-user rate limit with shared counters', () => {
  let issuer: DevIssuer;
  const stores: SharedRateLimitStore[] = [];
  beforeAll(async () => {
    issuer = await DevIssuer.create();
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
  });
  const controlOn = (url: string, perUserPerMinute: number) => {
    const store = sharedRateLimitStore(url);
    stores.push(store);
    return createAccessControl({ verifier: issuer.verifier(), rateLimit: { perUserPerMinute, store } });
  };

  (answers ? it : it.skip)('counts a user once across two processes on one Redis: the limit is met at the limit, not twice it', async () => {
    const user = `Bearer ${await issuer.mint({ role: 'gp', user: `gp-shared-${process.pid}-${Date.now()}` })}`;
    const [a, b] = [controlOn(redisUrl, 4), controlOn(redisUrl, 4)];
    // Connected first (until then each process counts in its memory, as while Redis is down).
    await Promise.all(stores.map((s) => (s.client.status === 'ready' ? undefined : new Promise((resolve) => s.client.once('ready', resolve)))));
    const outcomes: boolean[] = [];
    for (let i = 0; i < 6; i++) outcomes.push(await refused((i % 2 ? b : a).authenticate(user)));
    expect(outcomes).toEqual([false, false, false, false, true, true]);
  });

  it('with Redis unreachable, still holds the limit in each process and refuses nothing for the outage', async () => {
    // Nothing listens on port 1: every count fails at once and the process's memory counts instead.
    const down = controlOn('redis://127.0.0.1:1', 3);
    const user = `Bearer ${await issuer.mint({ role: 'gp', user: 'gp-redis-down' })}`;
    const outcomes: boolean[] = [];
    for (let i = 0; i < 4; i++) outcomes.push(await refused(down.authenticate(user)));
    expect(outcomes).toEqual([false, false, false, true]);
  });
});
