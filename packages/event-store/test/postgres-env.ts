import pg from 'pg';

/** PostgreSQL tests run when TANDEM_TEST_POSTGRES_URL is set (CI sets it); otherwise they say why they skip. */
export const postgresTestUrl = (suite: string): string | undefined => {
  const url = process.env.TANDEM_TEST_POSTGRES_URL;
  if (!url) process.stdout.write(`${suite} skipped: TANDEM_TEST_POSTGRES_URL is not set (CI sets it to the local PostgreSQL).\n`);
  return url;
};

/** Each test file works in its own schema, dropped afterwards, so runs never see each other's events. */
export const testSchemaName = (purpose: string): string => `t_${purpose}_${process.pid}_${Date.now().toString(36)}`;

export const dropSchema = async (url: string, schema: string): Promise<void> => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
};
