import { SetOnCallRotaSchema } from '@tandem/contracts';
import { z } from 'zod';
import { DELEGATION_READS, DELEGATION_ROUTES } from './routes';

const problem = {
  type: 'object',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', description: 'The rule that refused it, e.g. competence.consent-required' },
    errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
  },
};
const problemContent = { 'application/problem+json': { schema: problem } };

/** The delegation routes as OpenAPI 3.1 path items, generated from the same zod schemas that validate each command. */
export const delegationOpenApiPaths = (): Record<string, unknown> => {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of DELEGATION_ROUTES) {
    const path = route.path.replace(/:([A-Za-z]+)/g, '{$1}');
    paths[path] = {
      ...paths[path],
      post: {
        operationId: route.operationId,
        summary: route.summary,
        description: `For: ${route.for}. occurredAt defaults to the server's time. A refusal names the field and the reason; nothing is stored.`,
        tags: ['delegation'],
        parameters: route.pathParams.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
        requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(route.schema, { io: 'input', unrepresentable: 'any' }) } } },
        responses: {
          '201': { description: 'Recorded', content: { 'application/json': { schema: { type: 'object' } } } },
          '200': { description: 'Already recorded (you sent this command with this idempotency key before: the same answer again)', content: { 'application/json': { schema: { type: 'object' } } } },
          '400': { description: 'Invalid command: each error names its field', content: problemContent },
          '401': { description: 'Caller not identified', content: problemContent },
          '403': {
            description: 'The policy does not allow it, or you have no authority over this record (a competence is for the nursing team that trains and assesses the care worker; code competence.not-authorised)',
            content: problemContent,
          },
          '404': { description: 'No such delegation, escalation, prompt or framework', content: problemContent },
          '409': { description: 'Not allowed in the current state (e.g. already acknowledged), or a concurrent change; or Confirmation needed: occurredAt more than 7 days back, taken with confirmedLate true', content: problemContent },
          '422': { description: 'A rule forbids it (e.g. no consent, not a registered nurse, competence not current, a time before what it answers), or the idempotency key was already used by you for this command with different content (naming idempotencyKey; nothing stored)', content: problemContent },
        },
      },
    };
  }
  paths['/api/oncall-rotas/{organisationId}'] = {
    put: {
      operationId: 'SetOnCallRota',
      summary: "Set (replace) an organisation's on-call rota: weekly shifts in England's local time; the registered manager of that organisation",
      tags: ['delegation'],
      parameters: [{ name: 'organisationId', in: 'path', required: true, schema: { type: 'string' } }],
      requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(SetOnCallRotaSchema.partial({ organisationId: true, occurredAt: true }), { io: 'input', unrepresentable: 'any' }) } } },
      responses: {
        '201': { description: 'Set', content: { 'application/json': { schema: { type: 'object' } } } },
        '200': { description: 'The same rota again, or the same idempotency key: nothing recorded', content: { 'application/json': { schema: { type: 'object' } } } },
        '400': { description: 'Invalid rota: each error names its field', content: problemContent },
        '401': { description: 'Caller not identified', content: problemContent },
        '403': { description: 'Only the registered manager of this organisation sets its rota', content: problemContent },
      },
    },
  };
  for (const read of DELEGATION_READS) {
    const pathParams = [...read.path.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => m[1]!);
    paths[read.path] = {
      ...paths[read.path],
      get: {
        operationId: read.operationId,
        summary: read.summary,
        tags: ['delegation'],
        parameters: [
          ...pathParams.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
          ...Object.entries(read.query ?? {}).map(([name, description]) => ({ name, in: 'query', required: false, description, schema: { type: 'string' } })),
          { name: 'X-Tandem-Min-Position', in: 'header', required: false, description: 'Wait until the delegation read model holds this position', schema: { type: 'integer' } },
        ],
        responses: { '200': { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } }, '401': { description: 'Caller not identified', content: problemContent }, '403': { description: 'Not allowed', content: problemContent } },
      },
    };
  }
  return paths;
};
