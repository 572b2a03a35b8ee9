/**
 * `npm run token -- --role <role> --user <id> [--patient <id>] [--org <id>]
 *   [--registration <nmc|gmc|hcpc|system>|<value>] [--scope "..."] [--minutes 60]`
 * (`--minutes` at most 720: Tandem refuses a token that lives longer than 12 hours).
 *
 * Prints a bearer token signed by the embedded mode's development issuer (the key in
 * `$TANDEM_DATA_DIR/dev-issuer.json`, made on first use): the token alone on stdout, what it says on
 * stderr. It refuses to run unless TANDEM_EVENT_STORE is pglite: in the server and scale modes
 * tokens come from a real identity provider. A relative TANDEM_DATA_DIR is resolved like
 * `npm start` resolves it (from where the command was typed).
 */
import { resolveDataDir } from '../apps/tandem/src/config';
import { DEFAULT_TOKEN_MINUTES, defaultScope, DevIssuer, DevIssuerRefused, MAX_TOKEN_MINUTES } from '@tandem/auth';
import { RegistrationSchema, RoleSchema, type Registration } from '@tandem/contracts';
import { parseArgs } from 'node:util';

const REGISTERS: Readonly<Record<string, Registration['system']>> = {
  nmc: 'https://fhir.hl7.org.uk/Id/nmc-number',
  gmc: 'https://fhir.hl7.org.uk/Id/gmc-number',
  hcpc: 'https://fhir.hl7.org.uk/Id/hcpc-number',
};

const USAGE = `Usage: npm run token -- --role <${RoleSchema.options.join('|')}> --user <id>
         [--patient <patient id>] [--org <organisation id>] [--registration <nmc|gmc|hcpc>|<number>]
         [--scope "<SMART v2 scopes>"] [--minutes ${DEFAULT_TOKEN_MINUTES} (at most ${MAX_TOKEN_MINUTES})]
Example: npm run token -- --role care-worker --user cw-amira-hassan --org org-kindly-care`;

const fail = (message: string): never => {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(1);
};

const registrationOf = (raw: string | undefined): Registration | undefined => {
  if (raw === undefined) return undefined;
  const bar = raw.lastIndexOf('|');
  if (bar < 0) return fail('--registration is <register>|<number>, e.g. nmc|12A3456E');
  const system = raw.slice(0, bar);
  const parsed = RegistrationSchema.safeParse({ system: REGISTERS[system.toLowerCase()] ?? system, value: raw.slice(bar + 1) });
  return parsed.success ? parsed.data : fail(`--registration: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
};

const main = async () => {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        role: { type: 'string' },
        user: { type: 'string' },
        patient: { type: 'string' },
        org: { type: 'string' },
        registration: { type: 'string' },
        scope: { type: 'string' },
        minutes: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const role = RoleSchema.safeParse(values.role);
  if (!role.success) return fail(`--role must be one of ${RoleSchema.options.join(', ')}`);
  if (!values.user) return fail('--user is required (the user id, e.g. cw-amira-hassan)');
  const minutes = values.minutes === undefined ? DEFAULT_TOKEN_MINUTES : Number(values.minutes);
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > MAX_TOKEN_MINUTES) return fail(`--minutes must be more than 0 and at most ${MAX_TOKEN_MINUTES} (Tandem refuses a token that lives longer than 12 hours)`);

  const issuer = await DevIssuer.open({ dataDir: resolveDataDir(process.env.TANDEM_DATA_DIR), eventStore: process.env.TANDEM_EVENT_STORE ?? 'pglite' });
  const registration = registrationOf(values.registration);
  const scope = values.scope ?? defaultScope(role.data, values.patient);
  const token = await issuer.mint({
    role: role.data,
    user: values.user,
    scope,
    minutes,
    ...(values.org ? { org: values.org } : {}),
    ...(values.patient ? { patient: values.patient } : {}),
    ...(registration ? { registration } : {}),
  });
  process.stdout.write(`${token}\n`);
  const until = new Date(Date.now() + minutes * 60_000).toISOString();
  process.stderr.write(
    `# ${role.data} ${values.user}${values.org ? ` (${values.org})` : ''}${values.patient ? ` for Patient/${values.patient}` : ''}; scope "${scope}"; valid until ${until}\n`,
  );
};

main().catch((error: unknown) => {
  if (error instanceof DevIssuerRefused) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  fail(error instanceof Error ? error.message : String(error));
});
