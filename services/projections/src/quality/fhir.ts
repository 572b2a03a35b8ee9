import {
  daysOfPeriod,
  MEASURE_CANONICAL_BASE,
  MEASURE_IMPROVEMENT_SYSTEM,
  MEASURE_POPULATION_SYSTEM,
  MEASURE_SCORING_SYSTEM,
  MEDIAN_MINUTES_TO_ACKNOWLEDGE_CODE,
  UCUM,
  type IndicatorDefinition,
} from '@tandem/contracts';
import type { Bundle, FhirResource, Measure, MeasureReport, MeasureReportGroup } from 'fhir/r4';
import { createHash } from 'node:crypto';
import type { IndicatorFigure, IndicatorScope } from './reader';

/** A computable name (FHIR Measure.name): the id in PascalCase. */
const computableName = (id: string): string => id.replace(/(^|-)([a-z0-9])/g, (_m, _dash: string, c: string) => c.toUpperCase());

const population = (code: 'numerator' | 'denominator', description: string, events: readonly string[]) => ({
  code: { coding: [{ system: MEASURE_POPULATION_SYSTEM, code }] },
  description,
  criteria: { language: 'text/plain', description: 'The events that count (Tandem event types)', expression: events.join(' | ') },
});

/** One indicator's definition as a FHIR R4 Measure, made from the data alone. */
export const measureOf = (indicator: IndicatorDefinition): Measure => ({
  resourceType: 'Measure',
  id: indicator.id,
  url: `${MEASURE_CANONICAL_BASE}/${indicator.id}`,
  name: computableName(indicator.id),
  title: indicator.title,
  status: 'active',
  description: `Counts ${indicator.counts}. Reported per ${indicator.periods.join(' and per ')}.`,
  ...(indicator.tolerance ? { guidance: `Tolerance: ${indicator.tolerance.text}.` } : {}),
  relatedArtifact: indicator.sources.map((citation) => ({ type: 'citation', citation })),
  scoring: { coding: [{ system: MEASURE_SCORING_SYSTEM, code: 'proportion' }] },
  improvementNotation: { coding: [{ system: MEASURE_IMPROVEMENT_SYSTEM, code: indicator.higherIsBetter ? 'increase' : 'decrease' }] },
  group: [
    {
      description: indicator.alsoReports ? `Also reports ${indicator.alsoReports}.` : indicator.title,
      population: [population('denominator', indicator.denominator, indicator.denominatorEvents), population('numerator', indicator.numerator, indicator.numeratorEvents)],
    },
  ],
});

const reportId = (parts: readonly string[]): string => createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 40);

/** One figure as a MeasureReport: summary for an organisation, individual for a person. */
export const measureReportOf = (figure: IndicatorFigure, scope: IndicatorScope, period: string): MeasureReport => {
  const { from, to } = daysOfPeriod(period);
  const group: MeasureReportGroup[] = [
    {
      population: [
        { code: { coding: [{ system: MEASURE_POPULATION_SYSTEM, code: 'denominator' }] }, count: figure.denominator },
        { code: { coding: [{ system: MEASURE_POPULATION_SYSTEM, code: 'numerator' }] }, count: figure.numerator },
      ],
      ...(figure.value !== null ? { measureScore: { value: Math.round(figure.value * 10_000) / 10_000 } } : {}),
    },
  ];
  if (figure.medianMinutesToAcknowledge !== undefined && figure.medianMinutesToAcknowledge !== null) {
    group.push({ code: { coding: [MEDIAN_MINUTES_TO_ACKNOWLEDGE_CODE] }, measureScore: { value: figure.medianMinutesToAcknowledge, unit: 'min', system: UCUM, code: 'min' } });
  }
  return {
    resourceType: 'MeasureReport',
    id: reportId([figure.indicator.id, scope.organisationId ?? '', scope.patientId ?? '', period]),
    status: 'complete',
    type: scope.patientId ? 'individual' : 'summary',
    measure: `${MEASURE_CANONICAL_BASE}/${figure.indicator.id}`,
    ...(scope.patientId ? { subject: { reference: `Patient/${scope.patientId}` } } : {}),
    ...(scope.organisationId ? { reporter: { reference: `Organization/${scope.organisationId}` } } : {}),
    period: { start: from, end: to },
    group,
  };
};

/** A search's answer: every match, in order. */
export const searchset = <T extends FhirResource>(base: string, type: string, resources: readonly T[]): Bundle<T> => ({
  resourceType: 'Bundle',
  type: 'searchset',
  total: resources.length,
  entry: resources.map((resource) => ({ fullUrl: `${base}/${type}/${resource.id ?? ''}`, resource, search: { mode: 'match' } })),
});
