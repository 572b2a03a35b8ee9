import { postgresBackend } from '../src';
import { describeConformance } from './conformance';
import { dropSchema, postgresTestUrl, testSchemaName } from './postgres-env';

const url = postgresTestUrl('PostgreSQL conformance');
const schema = testSchemaName('conformance');
if (url) {
  describeConformance('PostgreSQL', () => postgresBackend({ connectionString: url, schema }), () => dropSchema(url, schema));
} else {
  describe.skip('PostgreSQL conformance (TANDEM_TEST_POSTGRES_URL not set)', () => it('needs PostgreSQL', () => undefined));
}
