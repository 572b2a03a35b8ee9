import { INDICATOR_IDS } from '@tandem/contracts';

/**
 * The OpenAPI paths of the reads this package serves (issue 15): the quality indicators
 * (docs/decisions/0032) and a provider's capacity (docs/decisions/0037). Merged into the process's
 * /openapi.json where the projections run.
 */
const problem = { 'application/problem+json': { schema: { type: 'object', properties: { title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } } } } } };
const refusals = {
  '400': { description: 'Bad input: each error names its parameter (an unknown parameter is refused, never ignored)', content: problem },
  '401': { description: 'No bearer token, or one that does not verify', content: problem },
  '403': { description: 'The access policy does not allow it for this organisation', content: problem },
  '429': { description: 'Too many requests; Retry-After says when to try again', content: problem },
};
const query = (name: string, required: boolean, description: string, schema: Record<string, unknown> = { type: 'string' }) => ({ name, in: 'query', required, description, schema });
const period = query('period', true, 'A month (2026-12) or a day (2026-12-03), in England', { type: 'string', pattern: '^\\d{4}-\\d{2}(-\\d{2})?$' });
const organisation = (what: string) => query('organisation', true, `The organisation (id) whose ${what}`);
const week = query('week', true, 'An ISO 8601 week, Monday to Sunday in England: 2026-W49', { type: 'string', pattern: '^\\d{4}-W\\d{2}$' });
const framework = query('framework', false, 'Only the care workers able to take on this delegated activity (a framework id: insulin-administration)');

const figure = {
  type: 'object',
  properties: {
    id: { type: 'string', enum: [...INDICATOR_IDS] },
    title: { type: 'string' },
    numerator: { type: 'integer' },
    denominator: { type: 'integer' },
    value: { type: ['number', 'null'], description: 'numerator / denominator; null when nothing was counted' },
    medianMinutesToAcknowledge: { type: ['number', 'null'] },
    numeratorText: { type: 'string' },
    denominatorText: { type: 'string' },
    entries: { type: 'string', description: 'The drill-down: the entries behind the figure' },
  },
};

const careWorker = {
  type: 'object',
  properties: {
    practitionerId: { type: 'string', description: 'The care worker by id only: her name is not disclosed' },
    competentUntil: { type: 'string', format: 'date-time' },
    availableFrom: { type: 'string', format: 'date-time' },
    availableUntil: { type: 'string', format: 'date-time', description: "The week's end, or her competence's end when that is sooner" },
    days: { type: 'array', items: { type: 'string', format: 'date' } },
    freeHours: { type: ['number', 'null'], description: 'Her hours available in that part of the week less her planned visits; null when her contracted hours are not recorded' },
  },
};

export const projectionsOpenApiPaths = (): Record<string, unknown> => ({
  '/api/indicators': {
    get: {
      operationId: 'ReadIndicators',
      summary: "An organisation's care-quality indicators for a month or a day (optionally for one person): the auditor any organisation's, a registered manager her own",
      tags: ['quality'],
      parameters: [organisation('indicators to read'), period, query('patient', false, 'One person (Patient id): their items only')],
      responses: { '200': { description: 'Each indicator with its numerator, denominator, value and drill-down link', content: { 'application/json': { schema: { type: 'object', properties: { organisation: { type: 'string' }, period: { type: 'string' }, indicators: { type: 'array', items: figure } } } } } }, ...refusals },
    },
  },
  '/api/indicators/{id}/entries': {
    get: {
      operationId: 'ReadIndicatorEntries',
      summary: 'The entries behind a figure: what each was, when, who recorded it, and whether it is in the numerator',
      tags: ['quality'],
      parameters: [
        { name: 'id', in: 'path', required: true, schema: { type: 'string', enum: [...INDICATOR_IDS] } },
        organisation('entries to read'),
        period,
        query('patient', false, 'One person (Patient id)'),
        query('counted', false, 'numerator: only the entries in the numerator; denominator (default): all', { type: 'string', enum: ['numerator', 'denominator'] }),
      ],
      responses: { '200': { description: 'The entries', content: { 'application/json': { schema: { type: 'object' } } } }, '404': { description: 'No such indicator', content: problem }, ...refusals },
    },
  },
  '/api/capacity': {
    get: {
      operationId: 'ReadCapacity',
      summary: "A home-care provider's capacity in a week (Capacity Tracker's figures, and the care workers able to take on each delegated activity with their free hours), for a hospital's discharge team: a system token or the auditor any provider's, its registered manager her own",
      tags: ['capacity'],
      parameters: [organisation('capacity to read'), week, framework],
      responses: {
        '200': {
          description: 'The figures, and per delegated activity the care workers with current competence in the week (a suspended, revoked or lapsed competence is never listed; one expiring mid-week is offered until it ends)',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  organisation: { type: 'string' },
                  week: { type: 'string' },
                  from: { type: 'string', format: 'date-time' },
                  to: { type: 'string', format: 'date-time' },
                  ...Object.fromEntries(['peopleSupported', 'visitsPlanned', 'staff', 'staffAbsent', 'staffWithoutContractedHours'].map((k) => [k, { type: 'integer' }])),
                  ...Object.fromEntries(['hoursPlanned', 'hoursDelivered', 'hoursAvailable', 'absenceHours'].map((k) => [k, { type: 'number', description: 'staff hours' }])),
                  delegated: { type: 'array', items: { type: 'object', properties: { frameworkId: { type: 'string' }, careWorkers: { type: 'array', items: careWorker } } } },
                },
              },
            },
          },
        },
        ...refusals,
      },
    },
  },
  '/fhir/Organization/{id}/$capacity': {
    get: {
      operationId: 'CapacityOperation',
      summary: 'The same as FHIR R4: a Bundle (collection) of a summary MeasureReport of the figures and a PractitionerRole per care worker able to take on a delegated activity (period to her competence\'s end, availableTime, free hours in an extension)',
      tags: ['capacity'],
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, week, framework],
      responses: { '200': { description: 'A FHIR Bundle', content: { 'application/fhir+json': { schema: { type: 'object' } } } }, '400': { description: 'An OperationOutcome naming the parameter' }, '401': { description: 'Not authenticated' }, '403': { description: 'Not allowed for this organisation' } },
    },
  },
});
