import { CAPACITY_ACCESS, type AccessControl } from '@tandem/auth';
import { FrameworkIdSchema, IdSchema, IsoWeekSchema, isoWeekWindow } from '@tandem/contracts';
import type { SqlQueryable } from '@tandem/event-store';
import { Router, type Request } from 'express';
import { authenticatedBy, bad, fhirBase, fhirRefusal, handle, jsonRefusal, readRoutesService, single, unknownParameters, type Problem, type Refusal } from '../read-routes';
import { capacityBundleOf } from './fhir';
import type { CapacityFigures } from './figures';
import { CapacityReader } from './reader';

export interface CapacityRoutesDeps {
  readonly readModels: SqlQueryable;
  readonly access: AccessControl;
}

const JSON_PARAMETERS = ['organisation', 'week', 'framework'];
const FHIR_PARAMETERS = ['week', 'framework', '_format'];

/**
 * A home-care provider's capacity in a week (issue 15; docs/decisions/0037), for a hospital's
 * discharge team: `GET /api/capacity?organisation=&week=` (JSON) and
 * `GET /fhir/Organization/{id}/$capacity?week=` (a Bundle: the figures as a MeasureReport, then a
 * PractitionerRole for each care worker able to take on a delegated activity). A system token
 * (the discharge team's system) or the auditor may ask of any provider, its registered manager of
 * her own; anyone else is refused (403). Care workers are named by id only, never by name.
 */
export const capacityRoutes = ({ readModels, access }: CapacityRoutesDeps): Router => {
  const reader = new CapacityReader(readModels);
  const router = Router();

  /** The caller, then the parameters (only once the caller is known: a forged token is a 401 whatever it asks), then the caller's right to the organisation. */
  const asked = async (req: Request, organisation: string | undefined, known: readonly string[]): Promise<{ organisationId: string; week: string; framework?: string } | Refusal> => {
    const who = await authenticatedBy(access, req);
    if (!('principal' in who)) return who;
    const week = single(req, 'week');
    const framework = single(req, 'framework');
    const errors: Problem[] = unknownParameters(req, 'capacity', known);
    if (organisation === undefined) errors.push({ field: 'organisation', message: 'is required: the provider (organisation id) whose capacity to read' });
    else if (!IdSchema.safeParse(organisation).success) errors.push({ field: 'organisation', message: 'must be an organisation id' });
    const weekParsed = IsoWeekSchema.safeParse(week);
    if (!weekParsed.success) errors.push({ field: 'week', message: week === undefined ? 'is required: an ISO week such as 2026-W49' : weekParsed.error.issues[0]!.message });
    if (framework !== undefined && !FrameworkIdSchema.safeParse(framework).success) errors.push({ field: 'framework', message: 'must be a delegation framework id (e.g. insulin-administration)' });
    if (errors.length > 0) return bad(errors);
    const decision = access.authorise({ principal: who.principal, action: CAPACITY_ACCESS.read.action, needs: CAPACITY_ACCESS.read.needs, target: { kind: 'organisation', organisationId: organisation! } });
    if (!decision.allowed) return { status: 403, title: 'Forbidden', detail: decision.detail };
    return { organisationId: organisation!, week: week!, ...(framework ? { framework } : {}) };
  };

  const narrowed = (figures: CapacityFigures, framework: string | undefined): CapacityFigures =>
    framework === undefined ? figures : { ...figures, delegated: figures.delegated.filter((d) => d.frameworkId === framework) };

  router.get(
    '/api/capacity',
    handle(jsonRefusal, async (req, res) => {
      const q = await asked(req, single(req, 'organisation'), JSON_PARAMETERS);
      if (!('week' in q)) return q;
      const window = isoWeekWindow(q.week);
      const figures = narrowed(await reader.figures(q.organisationId, window), q.framework);
      res.json({ organisation: q.organisationId, week: q.week, from: window.start, to: window.end, ...figures });
    }),
  );

  router.get(
    '/fhir/Organization/:id/\\$capacity',
    handle(fhirRefusal, async (req, res) => {
      const q = await asked(req, String(req.params.id), FHIR_PARAMETERS);
      if (!('week' in q)) return q;
      const window = isoWeekWindow(q.week);
      const figures = await reader.figures(q.organisationId, window);
      res.type('application/fhir+json').json(capacityBundleOf(fhirBase(req), q.organisationId, q.week, window, figures, q.framework));
    }),
  );

  return router;
};

/** The capacity reads as a service of the process. */
export const createCapacityService = (deps: CapacityRoutesDeps) => readRoutesService('capacity', capacityRoutes(deps));
