import { capacityOfWeek, type CapacityFacts } from '../src/capacity/figures';

/**
 * A provider's week of capacity, pure (issue 15; docs/decisions/0037; hazard H120: capacity
 * overstated to a discharge team). Week 2026-W49 in England (UTC in winter); each case's figures
 * are worked out by hand in its title.
 */
const WEEK = {
  start: '2026-11-30T00:00:00.000Z',
  end: '2026-12-07T00:00:00.000Z',
  dates: ['2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04', '2026-12-05', '2026-12-06'],
};
const none: CapacityFacts = { staff: [], absences: [], visits: [], competences: [] };

describe('capacity of a week', () => {
  it('overlapping absences count once: 35 hours a week, off Monday to Wednesday twice over (sickness inside leave) leaves 20 hours, 72 hours absent', () => {
    const figures = capacityOfWeek(
      {
        ...none,
        staff: [{ practitionerId: 'cw-1', hoursPerWeek: 35 }],
        absences: [
          { practitionerId: 'cw-1', from: '2026-11-30T00:00:00Z', to: '2026-12-03T00:00:00Z' },
          { practitionerId: 'cw-1', from: '2026-12-01T00:00:00Z', to: '2026-12-02T00:00:00Z' },
        ],
      },
      WEEK,
    );
    expect(figures).toMatchObject({ hoursAvailable: 20, staffAbsent: 1, absenceHours: 72 });
  });

  it('a care worker with no contracted hours is not counted as free: her free hours are unknown (null) and she is counted as without hours', () => {
    const figures = capacityOfWeek(
      { ...none, staff: [{ practitionerId: 'cw-1' }, { practitionerId: 'cw-2', hoursPerWeek: 14 }], competences: [{ careWorkerId: 'cw-1', frameworkId: 'insulin-administration', status: 'current', validUntil: '2027-06-01T00:00:00Z' }] },
      WEEK,
    );
    expect(figures).toMatchObject({ hoursAvailable: 14, staff: 2, staffWithoutContractedHours: 1 });
    expect(figures.delegated).toEqual([{ frameworkId: 'insulin-administration', careWorkers: [expect.objectContaining({ practitionerId: 'cw-1', freeHours: null })] }]);
  });

  it('a double-handed visit is two staff hours planned and delivered; free hours never go below 0 (7 hours a week, 2 hours of visits a day)', () => {
    const visits = WEEK.dates.map((date, i) => ({ visitId: `v${i}`, patientId: 'p1', plannedStart: `${date}T08:00:00.000Z`, plannedEnd: `${date}T10:00:00.000Z`, careWorkerIds: ['cw-1', 'cw-2'] }));
    visits[0] = { ...visits[0]!, checkedInAt: '2026-11-30T08:00:00.000Z', checkedOutAt: '2026-11-30T09:30:00.000Z' } as (typeof visits)[number];
    const figures = capacityOfWeek(
      {
        ...none,
        staff: [{ practitionerId: 'cw-1', hoursPerWeek: 7 }, { practitionerId: 'cw-2', hoursPerWeek: 35 }],
        visits,
        competences: ['cw-1', 'cw-2'].map((id) => ({ careWorkerId: id, frameworkId: 'insulin-administration', status: 'current' as const, validUntil: '2027-06-01T00:00:00Z' })),
      },
      WEEK,
    );
    expect(figures).toMatchObject({ peopleSupported: 1, visitsPlanned: 7, hoursPlanned: 28, hoursDelivered: 3 });
    expect(figures.delegated[0]!.careWorkers.map((w) => [w.practitionerId, w.freeHours])).toEqual([
      ['cw-1', 0],
      ['cw-2', 21],
    ]);
  });

  it('lapsed, revoked, suspended or in training: never offered; a competence that ended before the week: not offered; of another provider: not offered', () => {
    const statuses = ['lapsed', 'revoked', 'suspended', 'in-training'] as const;
    const figures = capacityOfWeek(
      {
        ...none,
        staff: [...statuses, 'ended'].map((s) => ({ practitionerId: `cw-${s}`, hoursPerWeek: 35 })),
        competences: [
          ...statuses.map((status) => ({ careWorkerId: `cw-${status}`, frameworkId: 'insulin-administration', status, validUntil: '2027-06-01T00:00:00Z' })),
          { careWorkerId: 'cw-ended', frameworkId: 'insulin-administration', status: 'current', validUntil: '2026-11-30T00:00:00Z' },
          { careWorkerId: 'cw-elsewhere', frameworkId: 'insulin-administration', status: 'current', validUntil: '2027-06-01T00:00:00Z' },
        ],
      },
      WEEK,
    );
    expect(figures.delegated).toEqual([]);
  });
});
