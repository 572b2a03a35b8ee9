import { CareEntryReplySchema, careRecordCommandSchemas } from '@tandem/contracts';
import { z } from 'zod';
import { COMMAND_ROUTES, type CommandRoute } from './commands';

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
    replayed: { type: 'boolean', description: 'True when this user already sent this command with this idempotency key: nothing new was stored' },
  },
};

/** The answer to a care-record entry, from the same zod schema the contracts type it with. */
const careEntryResultSchema = z.toJSONSchema(CareEntryReplySchema, { io: 'output', unrepresentable: 'any' });

const isCareEntry = (route: CommandRoute): boolean => Object.hasOwn(careRecordCommandSchemas, route.operationId);

/**
 * The body's schema: the command's, less the path parameters (the server takes them from the
 * path; a body may repeat one only if it matches), so the document never marks them required.
 */
const bodySchemaOf = (route: CommandRoute): unknown => {
  const schema = z.toJSONSchema(route.schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown>; required?: string[] };
  if (route.pathParams.length === 0) return schema;
  return {
    ...schema,
    ...(schema.properties
      ? {
          properties: Object.fromEntries(
            Object.entries(schema.properties).map(([name, property]) =>
              route.pathParams.includes(name) ? [name, { ...(property as object), description: `Taken from the path; if given, must match it` }] : [name, property],
            ),
          ),
        }
      : {}),
    ...(schema.required ? { required: schema.required.filter((name) => !route.pathParams.includes(name)) } : {}),
  };
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
          requestBody: { required: true, content: { 'application/json': { schema: bodySchemaOf(route) } } },
          responses: {
            '201': { description: isCareEntry(route) ? 'Recorded: with what to do at the bedside now' : 'Recorded', content: { 'application/json': { schema: isCareEntry(route) ? careEntryResultSchema : resultSchema } } },
            '200': { description: 'Already recorded (this user, this command, this idempotency key: the same answer again) or nothing to change', content: { 'application/json': { schema: isCareEntry(route) ? careEntryResultSchema : resultSchema } } },
            '400': { description: 'Invalid command: each error names its field', content: { 'application/problem+json': { schema: problemSchema } } },
            '401': { description: 'No bearer token, or one that does not verify', content: { 'application/problem+json': { schema: problemSchema } } },
            '403': { description: 'The access policy does not allow it (role, scope, or no care relationship with the person)', content: { 'application/problem+json': { schema: problemSchema } } },
            '404': { description: 'Unknown patient (to roles that may act for everyone)', content: { 'application/problem+json': { schema: problemSchema } } },
            '409': { description: 'Confirmation needed, naming the field (a possible duplicate insulin dose, an insulin the record does not know, an entry dated more than 7 days back), or a concurrent change', content: { 'application/problem+json': { schema: problemSchema } } },
            '422': { description: 'A clinical or record-keeping rule forbids it, or the idempotency key was already used by this user for a different command (naming idempotencyKey; nothing stored)', content: { 'application/problem+json': { schema: problemSchema } } },
          },
        },
      },
    ]),
    ...Object.entries(extraPaths),
  ]),
});
