import { QUALITY_ACCESS, type AccessControl, type Principal } from '@tandem/auth';
import { IndicatorIdSchema, IndicatorPeriodQuerySchema, indicatorById, INDICATORS } from '@tandem/contracts';
import type { SqlQueryable } from '@tandem/event-store';
import { Router, type Request } from 'express';
import { measureOf, measureReportOf, searchset } from './fhir';
import { IndicatorReader, type IndicatorScope } from './reader';
import { authenticatedBy, bad, fhirBase, fhirRefusal, handle, jsonRefusal, readRoutesService, referenceOf, single, unknownParameters, type Problem, type Refusal } from '../read-routes';

const periodProblem = (period: string | undefined): Problem | undefined => {
  const parsed = IndicatorPeriodQuerySchema.safeParse(period);
  return parsed.success ? undefined : { field: 'period', message: parsed.error.issues[0]!.message };
};

export interface IndicatorRoutesDeps {
  readonly readModels: SqlQueryable;
  readonly access: AccessControl;
}

/**
 * The quality indicators' reads (issue 15): JSON at /api/indicators and FHIR Measure and
 * MeasureReport under /fhir. The auditor reads any organisation's; a registered manager only her
 * own service's (the token's organisation); anyone else is refused (403). Bad input names the
 * field (problem+json, or an OperationOutcome with its expression) and nothing is read.
 */
export const indicatorRoutes = ({ readModels, access }: IndicatorRoutesDeps): Router => {
  const reader = new IndicatorReader(readModels);
  const router = Router();

  const authenticated = (req: Request) => authenticatedBy(access, req);

  const allowed = async (req: Request, organisationId: string | undefined): Promise<{ principal: Principal } | Refusal> => {
    const who = await authenticated(req);
    if (!('principal' in who)) return who;
    const { principal } = who;
    const target = { kind: 'organisation' as const, organisationId: organisationId ?? principal.actor.organisation ?? '' };
    const decision = access.authorise({ principal, action: QUALITY_ACCESS.read.action, needs: QUALITY_ACCESS.read.needs, target });
    return decision.allowed ? { principal } : { status: 403, title: 'Forbidden', detail: decision.detail };
  };

  /** The organisation and period of a JSON read, checked, then the caller's right to them. */
  const scoped = async (req: Request): Promise<{ scope: IndicatorScope; period: string } | Refusal> => {
    // The caller first: a forged token is a 401 whatever it asks.
    const caller = await authenticated(req);
    if (!('principal' in caller)) return caller;
    const period = single(req, 'period');
    const organisation = single(req, 'organisation');
    const patient = single(req, 'patient');
    const errors = [periodProblem(period), organisation === undefined ? { field: 'organisation', message: 'is required: the organisation whose indicators to read' } : undefined].filter((e): e is Problem => e !== undefined);
    if (patient !== undefined && referenceOf(patient, 'Patient') === '') errors.push({ field: 'patient', message: 'must be a patient id' });
    if (errors.length > 0) return bad(errors);
    const who = await allowed(req, organisation);
    if (!('principal' in who)) return who;
    return { scope: { organisationId: organisation!, ...(patient ? { patientId: referenceOf(patient, 'Patient')! } : {}) }, period: period! };
  };

  router.get(
    '/api/indicators',
    handle(jsonRefusal, async (req, res) => {
      const asked = await scoped(req);
      if (!('scope' in asked)) return asked;
      const figures = await reader.figures(asked.scope, asked.period);
      const query = new URLSearchParams({ organisation: asked.scope.organisationId!, period: asked.period, ...(asked.scope.patientId ? { patient: asked.scope.patientId } : {}) });
      res.json({
        organisation: asked.scope.organisationId,
        period: asked.period,
        indicators: figures.map((f) => ({
          id: f.indicator.id,
          title: f.indicator.title,
          numerator: f.numerator,
          denominator: f.denominator,
          value: f.value,
          ...(f.medianMinutesToAcknowledge !== undefined ? { medianMinutesToAcknowledge: f.medianMinutesToAcknowledge } : {}),
          numeratorText: f.indicator.numerator,
          denominatorText: f.indicator.denominator,
          entries: `/api/indicators/${f.indicator.id}/entries?${query.toString()}`,
        })),
      });
    }),
  );

  router.get(
    '/api/indicators/:id/entries',
    handle(jsonRefusal, async (req, res) => {
      const caller = await authenticated(req);
      if (!('principal' in caller)) return caller;
      const id = IndicatorIdSchema.safeParse(req.params.id);
      if (!id.success) return { status: 404, title: 'Not Found', detail: `There is no indicator ${String(req.params.id)}: ${INDICATORS.map((i) => i.id).join(', ')}` };
      const counted = single(req, 'counted');
      if (counted !== undefined && counted !== 'numerator' && counted !== 'denominator') return bad([{ field: 'counted', message: 'must be numerator or denominator' }]);
      const asked = await scoped(req);
      if (!('scope' in asked)) return asked;
      const entries = await reader.entries(id.data, asked.scope, asked.period, counted === 'numerator' ? 'numerator' : undefined);
      res.json({ indicator: id.data, organisation: asked.scope.organisationId, period: asked.period, counted: counted ?? 'denominator', entries });
    }),
  );

  /** A Measure read's caller, then its parameters (only once the caller is known: a forged token is a 401 whatever it asks). */
  const measureRefusal = async (req: Request): Promise<Refusal | undefined> => {
    const who = await allowed(req, undefined);
    if (!('principal' in who)) return who;
    const unknown = unknownParameters(req, 'Measure', ['_format']);
    return unknown.length > 0 ? bad(unknown) : undefined;
  };

  router.get(
    '/fhir/Measure',
    handle(fhirRefusal, async (req, res) => {
      const refused = await measureRefusal(req);
      if (refused) return refused;
      res.type('application/fhir+json').json(searchset(fhirBase(req), 'Measure', INDICATORS.map(measureOf)));
    }),
  );

  router.get(
    '/fhir/Measure/:id',
    handle(fhirRefusal, async (req, res) => {
      const refused = await measureRefusal(req);
      if (refused) return refused;
      const indicator = indicatorById(String(req.params.id));
      if (!indicator) return { status: 404, title: 'Not Found', detail: `Measure/${String(req.params.id)} is not known` };
      res.type('application/fhir+json').json(measureOf(indicator));
    }),
  );

  /**
   * Summary reports: `reporter=Organization/<id>&period=`; individual reports: `subject=Patient/<id>&period=`
   * (with `reporter` the organisation's items for that person: a registered manager must name hers).
   */
  router.get(
    '/fhir/MeasureReport',
    handle(fhirRefusal, async (req, res) => {
      const caller = await authenticated(req);
      if (!('principal' in caller)) return caller;
      const period = single(req, 'period');
      const reporter = referenceOf(single(req, 'reporter'), 'Organization');
      const subject = referenceOf(single(req, 'subject'), 'Patient');
      const errors = [...unknownParameters(req, 'MeasureReport', ['period', 'reporter', 'subject', '_format']), ...[periodProblem(period)].filter((e): e is Problem => e !== undefined)];
      if (reporter === '') errors.push({ field: 'reporter', message: 'must be Organization/<id>' });
      if (subject === '') errors.push({ field: 'subject', message: 'must be Patient/<id>' });
      if (reporter === undefined && subject === undefined) errors.push({ field: 'reporter', message: 'name the organisation (reporter=Organization/<id>) or the person (subject=Patient/<id>)' });
      if (errors.length > 0) return bad(errors);
      const who = await allowed(req, reporter);
      if (!('principal' in who)) return who;
      // A manager reading a person's report without naming an organisation reads her own service's items for them.
      const organisationId = reporter ?? (who.principal.actor.role === 'auditor' ? undefined : who.principal.actor.organisation);
      const scope: IndicatorScope = { ...(organisationId ? { organisationId } : {}), ...(subject ? { patientId: subject } : {}) };
      const figures = await reader.figures(scope, period!);
      res.type('application/fhir+json').json(searchset(fhirBase(req), 'MeasureReport', figures.map((f) => measureReportOf(f, scope, period!))));
    }),
  );

  return router;
};

/** The indicators' reads as a service of the process. */
export const createIndicatorsService = (deps: IndicatorRoutesDeps) => readRoutesService('indicators', indicatorRoutes(deps));
