import { z } from 'zod';
import { COMMAND_ROUTES } from './commands';

const problemSchema = {
  type: 'object',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
  },
};

const resultSchema = {
  type: 'object',
  properties: {
    position: { type: 'integer', description: 'Global position: send it as X-Tandem-Min-Position to read your own write from /fhir' },
    revision: { type: 'integer' },
    eventIds: { type: 'array', items: { type: 'string', format: 'uuid' } },
    eventTypes: { type: 'array', items: { type: 'string' } },
    replayed: { type: 'boolean', description: 'True when the idempotency key was already recorded: nothing new was stored' },
  },
};

/**
 * The OpenAPI 3.1 document, generated from the same zod schemas that validate each command;
 * `extraPaths`: other services' JSON commands served by this process (the delegation service's).
 */
export const openApiDocument = (version: string, extraPaths: Record<string, unknown> = {}) => ({
  openapi: '3.1.0',
  info: {
    title: 'Tandem command API',
    version,
    description: 'Commands that record care as events. Reads are FHIR R4 at /fhir. Every command needs a bearer JWT (in the embedded mode: `npm run token`).',
  },
  components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
  security: [{ bearer: [] }],
  paths: Object.fromEntries([
    ...COMMAND_ROUTES.map((route) => [
      route.path.replace(/:([A-Za-z]+)/g, '{$1}'),
      {
        post: {
          operationId: route.operationId,
          summary: route.summary,
          parameters: [
            ...[...route.path.matchAll(/:([A-Za-z]+)/g)].map(([, name]) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
          ],
          requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(route.schema, { io: 'input', unrepresentable: 'any' }) } } },
          responses: {
            '201': { description: 'Recorded', content: { 'application/json': { schema: resultSchema } } },
            '200': { description: 'Already recorded (same idempotency key) or nothing to change', content: { 'application/json': { schema: resultSchema } } },
            '400': { description: 'Invalid command: each error names its field', content: { 'application/problem+json': { schema: problemSchema } } },
            '401': { description: 'No bearer token, or one that does not verify', content: { 'application/problem+json': { schema: problemSchema } } },
            '403': { description: 'The access policy does not allow it (role, scope, or no care relationship with the person)', content: { 'application/problem+json': { schema: problemSchema } } },
            '404': { description: 'Unknown patient (to roles that may act for everyone)', content: { 'application/problem+json': { schema: problemSchema } } },
            '409': { description: 'Confirmation needed (e.g. a possible duplicate insulin dose), or a concurrent change', content: { 'application/problem+json': { schema: problemSchema } } },
            '422': { description: 'A clinical or record-keeping rule forbids it', content: { 'application/problem+json': { schema: problemSchema } } },
          },
        },
      },
    ]),
    ...Object.entries(extraPaths),
  ]),
});
