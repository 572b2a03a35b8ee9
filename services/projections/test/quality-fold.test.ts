import type { RecordedEvent } from '@tandem/event-store';
import { delegatedDose, delegatedDoseOf, doseOfEscalation, evolveItem, itemKeysOf, rowsOfItem, type DelegationItem, type OrderItem, type QualityContext, type QualityItem } from '../src/quality/fold';

/**
 * The quality indicators' fold, pure (issue 15; hazard H100): the cases where an indicator could
 * undercount missed care, each as the rows an inspector would be shown. England is UTC in
 * December, so the calendar here is UTC's; the tolerance is 60 minutes (30 time-critical), as the
 * medicines ruleset's defaults.
 */
const context: QualityContext = {
  dayOf: (instant) => instant.toISOString().slice(0, 10),
  instantOf: (date, time) => `${date}T${time}:00.000Z`,
  onTimeUntil: (timeCritical, dueAt) => new Date(Date.parse(dueAt) + (timeCritical ? 30 : 60) * 60_000).toISOString(),
  doseEscalationId: (orderId, scheduledAt) => `dose-escalation|${orderId}|${scheduledAt}`,
};

let position = 0;
const event = (stream: string, type: string, data: unknown, occurredAt: string, actor = 'someone'): RecordedEvent => ({
  id: `event-${++position}`,
  stream,
  revision: 0,
  position,
  type,
  schemaVersion: 1,
  data,
  metadata: { actor: { id: actor, role: 'care-worker' }, correlationId: '00000000-0000-4000-8000-000000000000', occurredAt, recordedAt: occurredAt },
});

/** Folds the events into their items, as the projection does, and gives every item's rows. */
const fold = (events: readonly RecordedEvent[], patientId = 'p1'): ReturnType<typeof rowsOfItem> => {
  const items = new Map<string, QualityItem>();
  for (const e of events) {
    for (const key of itemKeysOf(e, context)) {
      const orderKey = key.startsWith('dose:') ? `order:${key.slice(5, key.lastIndexOf('@'))}` : undefined;
      const order = orderKey ? items.get(orderKey) : undefined;
      const after = evolveItem(key, items.get(key), e, { patientId, careTeamOrganisations: ['org-a'], ...(order?.kind === 'order' ? { order } : {}) });
      if (after) items.set(key, after);
    }
  }
  return [...items.values()].flatMap((item) => rowsOfItem(item, context));
};

const planned = (visitId: string, start: string, end: string) =>
  event(`visit-${visitId}`, 'VisitPlanned', { patientId: 'p1', visitId, providerOrganisationId: 'org-agency', plannedStart: start, plannedEnd: end, careWorkerIds: ['cw-1'], tasks: [], lateToleranceMinutes: 30 }, '2026-12-01T07:00:00.000Z', 'rm-1');

describe('visits', () => {
  it('a visit noticed missed stays missed when someone arrives after its planned end, and counts for the provider', () => {
    const rows = fold([
      planned('v1', '2026-12-01T08:00:00.000Z', '2026-12-01T08:30:00.000Z'),
      event('visit-v1', 'VisitMissed', { visitId: 'v1', plannedEnd: '2026-12-01T08:30:00.000Z' }, '2026-12-01T08:30:00.000Z', 'tandem-delegation'),
      event('visit-v1', 'VisitCheckedIn', { visitId: 'v1', careWorkerId: 'cw-1', lateByMinutes: 50 }, '2026-12-01T08:50:00.000Z', 'cw-1'),
    ]);
    expect(rows).toEqual([expect.objectContaining({ indicator: 'missed-visits', itemId: 'v1', inNumerator: true, organisations: ['org-agency'], recordedBy: 'rm-1', day: '2026-12-01' })]);
  });

  it('a cancelled visit counts for nothing: neither planned nor missed', () => {
    expect(fold([planned('v2', '2026-12-01T08:00:00.000Z', '2026-12-01T08:30:00.000Z'), event('visit-v2', 'VisitCancelled', { visitId: 'v2', reason: 'in hospital' }, '2026-12-01T07:30:00.000Z', 'rm-1')])).toEqual([]);
  });

  it('a rescheduled visit counts on its new day', () => {
    const rows = fold([
      planned('v3', '2026-12-01T08:00:00.000Z', '2026-12-01T08:30:00.000Z'),
      event('visit-v3', 'VisitRescheduled', { visitId: 'v3', plannedStart: '2026-12-02T08:00:00.000Z', plannedEnd: '2026-12-02T08:30:00.000Z' }, '2026-12-01T07:30:00.000Z', 'rm-1'),
    ]);
    expect(rows.map((r) => [r.indicator, r.day, r.inNumerator])).toEqual([['missed-visits', '2026-12-02', false]]);
  });
});

describe('scheduled doses', () => {
  const ordered = event('medicines-p1', 'MedicationOrdered', { patientId: 'p1', timeCritical: true, product: { display: 'Co-careldopa' }, dose: { value: 1, unit: 'tablet' }, timing: { kind: 'scheduled', times: ['08:00', '12:00'] } }, '2026-12-01T07:00:00.000Z', 'nurse-1');
  const dueAt = '2026-12-01T12:00:00.000Z';
  const checkedOut = (visitId: string) =>
    event(`visit-${visitId}`, 'VisitCheckedOut', { visitId, careWorkerId: 'cw-1', tasks: [], unrecordedDoses: [{ doseId: `${ordered.id}@${dueAt}`, description: '1 tablet of Co-careldopa at 12:00', dueAt }], unrecordedDosesReason: 'no tablets in the house' }, '2026-12-01T12:30:00.000Z', 'cw-1');
  const given = (at: string) =>
    event('care-p1', 'MedicineDoseRecorded', { patientId: 'p1', orderId: ordered.id, outcome: 'given', scheduledTime: '12:00', dose: { value: 1, unit: 'tablet' }, product: { display: 'Co-careldopa' }, prn: false, timeCritical: true }, at, 'cw-1');

  it('a dose a visit was closed without is due and not on time, time-critical as its order says, and names who closed the visit', () => {
    const rows = fold([ordered, planned('v4', '2026-12-01T11:45:00.000Z', '2026-12-01T12:30:00.000Z'), checkedOut('v4')]).filter((r) => r.indicator !== 'missed-visits');
    expect(rows.map((r) => [r.indicator, r.inNumerator, r.recordedBy, r.patientId])).toEqual([
      ['scheduled-doses-on-time', false, 'cw-1', 'p1'],
      ['time-critical-doses-on-time', false, 'cw-1', 'p1'],
    ]);
  });

  it('a delegated insulin dose a visit was closed without (named by its delegation, no order) counts as time-critical', () => {
    const insulin = event('visit-v6', 'VisitCheckedOut', { visitId: 'v6', careWorkerId: 'cw-1', tasks: [], unrecordedDoses: [{ doseId: `delegation-1@${dueAt}`, description: '8 units of Humulin I KwikPen at 12:00', dueAt }], unrecordedDosesReason: 'pen missing' }, '2026-12-01T12:30:00.000Z', 'cw-1');
    const rows = fold([planned('v6', '2026-12-01T11:45:00.000Z', '2026-12-01T12:30:00.000Z'), insulin]).filter((r) => r.indicator === 'time-critical-doses-on-time');
    expect(rows.map((r) => [r.itemId, r.inNumerator])).toEqual([[`delegation-1@${dueAt}`, false]]);
  });

  it('a dose nobody records, prompted by the scheduler past its tolerance, is due and not on time; recorded later, still one dose', () => {
    const prompted = (careWorkerId: string) =>
      event(`prompt-${careWorkerId}`, 'CarePromptIssued', { promptId: `prompt-${careWorkerId}`, patientId: 'p1', careWorkerId, dose: { orderId: ordered.id, scheduledTime: '12:00', scheduledAt: dueAt, escalateAt: '2026-12-01T12:45:00.000Z', timeCritical: true } }, '2026-12-01T12:30:00.000Z', 'tandem-delegation');
    const unrecorded = fold([ordered, prompted('cw-1'), prompted('cw-2')]);
    expect(unrecorded.map((r) => [r.indicator, r.inNumerator, r.what])).toEqual([
      ['scheduled-doses-on-time', false, '1 tablet of Co-careldopa at 12:00: no outcome recorded'],
      ['time-critical-doses-on-time', false, '1 tablet of Co-careldopa at 12:00: no outcome recorded'],
    ]);
    const recordedLater = fold([ordered, prompted('cw-1'), given('2026-12-01T12:50:00.000Z')]).filter((r) => r.indicator === 'time-critical-doses-on-time');
    expect(recordedLater.map((r) => [r.itemId, r.inNumerator, r.recordedBy])).toEqual([[`${ordered.id}@${dueAt}`, false, 'cw-1']]);
  });

  it("an overdue dose escalated with nobody to prompt is found by the escalation's id: the 12:00 dose, escalated just after midnight, is yesterday's", () => {
    const order = evolveItem(`order:${ordered.id}`, undefined, ordered, { patientId: 'p1', careTeamOrganisations: [] }) as OrderItem;
    expect(doseOfEscalation(`dose-escalation|${ordered.id}|${dueAt}`, '2026-12-02T00:10:00.000Z', [order], context)).toMatchObject({ scheduledAt: dueAt, scheduledTime: '12:00' });
    expect(doseOfEscalation('some-hypo-escalation', '2026-12-01T12:45:00.000Z', [order], context)).toBeUndefined();
  });

  it('a dose given on time, then marked entered in error, is due again with no outcome: not on time', () => {
    const recorded = given('2026-12-01T12:05:00.000Z');
    const key = itemKeysOf(recorded, context)[0]!;
    const onTime = evolveItem(key, undefined, recorded, { patientId: 'p1', careTeamOrganisations: ['org-a'] })!;
    const inError = event('care-p1', 'EntryMarkedEnteredInError', { patientId: 'p1', entryId: recorded.id, reason: 'wrong person' }, '2026-12-01T13:00:00.000Z', 'nurse-1');
    const after = evolveItem(key, onTime, inError, { patientId: 'p1', careTeamOrganisations: ['org-a'] })!;
    expect(rowsOfItem(onTime, context).map((r) => r.inNumerator)).toEqual([true, true]);
    expect(rowsOfItem(after, context).map((r) => [r.inNumerator, r.what])).toEqual([
      [false, 'Co-careldopa at 12:00: no outcome recorded'],
      [false, 'Co-careldopa at 12:00: no outcome recorded'],
    ]);
  });

  it('the same dose recorded afterwards is one dose, not two: late by 40 minutes, beyond the 30 for a time-critical medicine', () => {
    const rows = fold([ordered, planned('v5', '2026-12-01T11:45:00.000Z', '2026-12-01T12:30:00.000Z'), checkedOut('v5'), given('2026-12-01T12:40:00.000Z')]).filter((r) => r.indicator === 'time-critical-doses-on-time');
    expect(rows.map((r) => [r.itemId, r.inNumerator])).toEqual([[`${ordered.id}@${dueAt}`, false]]);
  });

  it('given within 30 minutes of its time it is on time; a PRN dose is never a scheduled one', () => {
    expect(fold([ordered, given('2026-12-01T12:30:00.000Z')]).map((r) => [r.indicator, r.inNumerator])).toEqual([
      ['scheduled-doses-on-time', true],
      ['time-critical-doses-on-time', true],
    ]);
    const prn = event('care-p1', 'MedicineDoseRecorded', { patientId: 'p1', orderId: 'o-prn', outcome: 'given', prn: true, timeCritical: false, product: { display: 'Paracetamol' } }, '2026-12-01T12:30:00.000Z');
    expect(itemKeysOf(prn, context)).toEqual([]);
  });
});

describe('escalations', () => {
  const raised = (id: string) =>
    event(`escalation-${id}`, 'EscalationRaised', { escalationId: id, patientId: 'p1', ruleId: 'news2.high', urgency: 'emergency', triggeringEntryIds: [], incident: false }, '2026-12-01T10:00:00.000Z', 'tandem-delegation');
  const sent = (id: string, dueAt: string | null) => event(`escalation-${id}`, 'EscalationSentToTier', { tier: 0, tierId: 't', recipient: 'r', dueAt, informed: [] }, '2026-12-01T10:00:00.000Z', 'tandem-delegation');
  const acknowledged = (id: string, at: string) => event(`escalation-${id}`, 'EscalationAcknowledged', { by: { practitionerId: 'nurse-1', role: 'district-nurse' }, tier: 0 }, at, 'nurse-1');

  it('acknowledged one minute after the first deadline is not in time, though acknowledged; its minutes are kept for the median', () => {
    const [row] = fold([raised('e1'), sent('e1', '2026-12-01T10:30:00.000Z'), acknowledged('e1', '2026-12-01T10:31:00.000Z')]);
    expect(row).toMatchObject({ indicator: 'escalations-acknowledged-in-time', inNumerator: false, minutes: 31, organisations: ['org-a'] });
  });

  it('never acknowledged: in the denominator, not the numerator, with no minutes', () => {
    const [row] = fold([raised('e2'), sent('e2', '2026-12-01T10:30:00.000Z')]);
    expect(row).toMatchObject({ inNumerator: false });
    expect(row!.minutes).toBeUndefined();
  });

  it('sent straight to a last tier with no deadline (999 advice): acknowledged at all is in time', () => {
    const [row] = fold([raised('e3'), sent('e3', null), acknowledged('e3', '2026-12-01T11:00:00.000Z')]);
    expect(row).toMatchObject({ inNumerator: true, minutes: 60 });
  });
});

describe('delegated insulin: a dose given or withheld under a delegation is the outcome of its scheduled, time-critical dose', () => {
  const insulinContext: QualityContext = { ...context, insulin: { productKey: (product) => product.trim().toLowerCase(), timeWindowMinutes: 60 } };
  const DELEGATION = 'deleg-1';
  const proposed = event(
    `delegation-${DELEGATION}`,
    'DelegationProposed',
    { delegationId: DELEGATION, patientId: 'p1', instruction: { kind: 'insulin', product: 'Humulin I KwikPen', device: 'pen', dose: { value: 10, unit: 'units' }, times: ['18:00'] } },
    '2026-11-30T10:00:00.000Z',
    'nurse-1',
  );
  const activated = event(`delegation-${DELEGATION}`, 'DelegationActivated', {}, '2026-11-30T11:00:00.000Z', 'nurse-1');
  const suspended = event(`delegation-${DELEGATION}`, 'DelegationSuspended', {}, '2026-12-03T09:00:00.000Z', 'nurse-1');
  const insulin = (type: 'InsulinAdministered' | 'InsulinWithheld', at: string, product = 'Humulin I KwikPen') => event('care-p1', type, { patientId: 'p1', product }, at, 'cw-1');

  /** As the projection folds them: the delegation's state, then each insulin entry matched to its dose. */
  const fold = (events: readonly RecordedEvent[]) => {
    const items = new Map<string, QualityItem>();
    for (const e of events) {
      for (const key of itemKeysOf(e, insulinContext)) {
        const after = evolveItem(key, items.get(key), e, { patientId: 'p1', careTeamOrganisations: ['org-a'] });
        if (after) items.set(key, after);
      }
      const found = delegatedDoseOf(e, [...items.values()].filter((i): i is DelegationItem => i.kind === 'delegation'), insulinContext);
      if (found) {
        const key = `dose:${found.delegation.delegationId}@${found.dueAt}`;
        const before = items.get(key);
        items.set(key, delegatedDose(before?.kind === 'dose' ? before : undefined, e, found, ['org-a']));
      }
    }
    return [...items.values()].flatMap((item) => rowsOfItem(item, insulinContext));
  };

  it('given 20 minutes after 18:00 is on time (30 minutes for a time-critical medicine); withheld the next day is due and not on time; both count as scheduled and time-critical', () => {
    const rows = fold([proposed, activated, insulin('InsulinAdministered', '2026-12-01T18:20:00.000Z'), insulin('InsulinWithheld', '2026-12-02T18:05:00.000Z')]);
    expect(rows.map((r) => [r.indicator, r.itemId, r.inNumerator])).toEqual([
      ['scheduled-doses-on-time', 'deleg-1@2026-12-01T18:00:00.000Z', true],
      ['time-critical-doses-on-time', 'deleg-1@2026-12-01T18:00:00.000Z', true],
      ['scheduled-doses-on-time', 'deleg-1@2026-12-02T18:00:00.000Z', false],
      ['time-critical-doses-on-time', 'deleg-1@2026-12-02T18:00:00.000Z', false],
    ]);
  });

  it('the dose a check-out closed without, recorded later, is one item (not two); a dose far from any instructed time, or under a suspended delegation, is not a scheduled dose', () => {
    const checkOut = event('visit-v9', 'VisitCheckedOut', { visitId: 'v9', careWorkerId: 'cw-1', tasks: [], unrecordedDoses: [{ doseId: 'deleg-1@2026-12-01T18:00:00.000Z', description: '10 units of Humulin I KwikPen at 18:00', dueAt: '2026-12-01T18:00:00.000Z' }], unrecordedDosesReason: 'pen not found' }, '2026-12-01T18:30:00.000Z', 'cw-1');
    const rows = fold([
      proposed,
      activated,
      checkOut,
      insulin('InsulinAdministered', '2026-12-01T18:50:00.000Z'),
      insulin('InsulinAdministered', '2026-12-02T13:00:00.000Z'),
      suspended,
      insulin('InsulinAdministered', '2026-12-03T18:00:00.000Z'),
    ]);
    const doses = rows.filter((r) => r.indicator === 'scheduled-doses-on-time');
    expect(doses.map((r) => [r.itemId, r.inNumerator])).toEqual([['deleg-1@2026-12-01T18:00:00.000Z', false]]);
  });
});
