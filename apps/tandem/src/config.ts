import { isSecureKeyUrl } from '@tandem/auth';
import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * A relative data directory means relative to where the person typed the command: npm runs
 * workspace scripts inside apps/tandem but records the caller's directory in INIT_CWD.
 */
export const resolveDataDir = (dir: string = './.tandem-data', env: Record<string, string | undefined> = process.env): string =>
  resolve(env.INIT_CWD ?? process.cwd(), dir);

const ServiceName = z.enum(['record', 'delegation', 'projections']);

/**
 * Configuration comes only from the environment, checked once at start-up: a wrong value stops
 * the process with a message naming the variable rather than failing later, mid-shift.
 */
export const ConfigSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    TANDEM_EVENT_STORE: z.enum(['pglite', 'postgres', 'eventstoredb']).default('pglite'),
    TANDEM_DATA_DIR: z.string().min(1).default('./.tandem-data').transform((dir) => resolveDataDir(dir)),
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    EVENTSTORE_CONNECTION_STRING: z.string().regex(/^esdb(\+discover)?:\/\/.+/, 'must be an esdb:// connection string').optional(),
    /** Which services this process runs; embedded mode runs all three in one process. */
    TANDEM_SERVICES: z
      .string()
      .default('record,delegation,projections')
      .transform((s) => s.split(',').map((x) => x.trim()))
      .pipe(z.array(ServiceName).min(1)),
    TANDEM_DEMO_DATA: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
    /** The identity provider's signing keys (JWKS), token issuer and audience; the embedded mode has a development issuer instead. */
    TANDEM_AUTH_JWKS_URL: z
      .url({ protocol: /^https?$/ })
      // Keys fetched over plain http could be swapped by anyone on the path: https, or http to this machine only.
      .refine(isSecureKeyUrl, 'must be an https URL (plain http only to localhost, 127.0.0.1 or [::1])')
      .optional(),
    TANDEM_AUTH_ISSUER: z.string().min(1).optional(),
    TANDEM_AUTH_AUDIENCE: z.string().min(1).optional(),
    /** The care worker's app at the identity provider (server mode): its public client id and the scopes it asks for. */
    TANDEM_WEB_CLIENT_ID: z.string().min(1).default('tandem-web'),
    TANDEM_WEB_SCOPE: z.string().min(1).default('openid'),
    /**
     * The embedded mode's test clock: the server's time can be moved on (POST /admin/clock/advance,
     * system token) and due timers fire at once, so a demo need not wait 30 minutes for a re-escalation.
     */
    TANDEM_TEST_CLOCK: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
    /**
     * Requests each verified user may make per minute (counted per process); over it, 429 with
     * Retry-After. 0 turns the limit off (benchmarks). See docs/decisions/0009-hardening.md.
     */
    TANDEM_RATE_LIMIT_PER_MINUTE: z
      .string()
      .regex(/^\d{1,9}$/, 'must be a whole number of requests per minute (0 turns the limit off)')
      .default('1200')
      .transform(Number),
    /**
     * Redis for the rate limits' counters (redis://host:6379), shared by every process pointed at
     * it: two or more record processes behind a proxy then count each user once (hazard O4, ADR
     * 0017). Server mode only; off by default, when each process counts alone.
     */
    TANDEM_REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
    /**
     * Behind a reverse proxy or load balancer: how many hops (a number) or which addresses
     * ("loopback, 10.0.0.0/8") to trust for X-Forwarded-For, so rate limits and the audit trail see
     * the client's address rather than the proxy's. Off by default.
     */
    TANDEM_TRUST_PROXY: z
      .string()
      .default('false')
      .transform((v): false | number | string => (v === 'false' ? false : /^\d+$/.test(v) ? Number(v) : v))
      .refine((v) => v !== 'true', 'must be false, a number of proxy hops, or the proxies\' addresses (true would believe any client)'),
    /**
     * The secret a person's id is keyed with from their NHS number (HMAC-SHA256; at least 32
     * characters, e.g. `openssl rand -hex 32`); required where the record service runs outside the
     * embedded mode, which keeps one in the data directory. Never change it on a running record: docs/decisions/0005.
     */
    TANDEM_ID_SECRET: z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)').optional(),
    /** How often the global digest of the event log is sealed (SQL stores; 0 turns it off). docs/decisions/0010 */
    TANDEM_DIGEST_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(300),
    /** LOCAL: minutes after a visit's planned start before, not checked in, it is late and its provider's registered manager is told (issue 13). */
    TANDEM_VISIT_LATE_TOLERANCE_MINUTES: z.coerce.number().int().min(0).max(240).default(30),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((c, ctx) => {
    if (c.TANDEM_EVENT_STORE !== 'pglite' && !c.DATABASE_URL) {
      ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: `is required when TANDEM_EVENT_STORE=${c.TANDEM_EVENT_STORE} (read models live in PostgreSQL)` });
    }
    if (c.TANDEM_TEST_CLOCK && c.TANDEM_EVENT_STORE !== 'pglite') {
      ctx.addIssue({ code: 'custom', path: ['TANDEM_TEST_CLOCK'], message: 'is only allowed in the embedded mode (TANDEM_EVENT_STORE=pglite)' });
    }
    if (c.TANDEM_EVENT_STORE !== 'pglite' && c.TANDEM_SERVICES.includes('record') && c.TANDEM_ID_SECRET === undefined) {
      ctx.addIssue({ code: 'custom', path: ['TANDEM_ID_SECRET'], message: `is required when TANDEM_EVENT_STORE=${c.TANDEM_EVENT_STORE} and the record service runs (every record process keys patient ids with the same secret)` });
    }
    if (c.TANDEM_REDIS_URL && c.TANDEM_EVENT_STORE === 'pglite') {
      ctx.addIssue({ code: 'custom', path: ['TANDEM_REDIS_URL'], message: 'is only used in the server mode: the embedded mode is one process, counting in its memory' });
    }
    if (c.TANDEM_EVENT_STORE === 'eventstoredb' && !c.EVENTSTORE_CONNECTION_STRING) {
      ctx.addIssue({ code: 'custom', path: ['EVENTSTORE_CONNECTION_STRING'], message: 'is required when TANDEM_EVENT_STORE=eventstoredb' });
    }
    // Tokens: a real identity provider outside the embedded mode (where the development issuer
    // refuses to run); when one is configured, all three are needed together.
    const auth = ['TANDEM_AUTH_JWKS_URL', 'TANDEM_AUTH_ISSUER', 'TANDEM_AUTH_AUDIENCE'] as const;
    const configured = auth.some((key) => c[key] !== undefined);
    if (c.TANDEM_EVENT_STORE !== 'pglite' || configured) {
      for (const key of auth) {
        if (c[key] === undefined) {
          const why = c.TANDEM_EVENT_STORE !== 'pglite' ? `TANDEM_EVENT_STORE=${c.TANDEM_EVENT_STORE} (the development issuer runs only in the embedded mode)` : 'another TANDEM_AUTH_ variable is set';
          ctx.addIssue({ code: 'custom', path: [key], message: `is required when ${why}` });
        }
      }
    }
  });

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export const loadConfig = (env: Record<string, string | undefined> = process.env): Config => {
  const parsed = ConfigSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`));
};
