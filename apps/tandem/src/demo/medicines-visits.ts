import { DMD_SYSTEM, englandDate, englandInstant, type Actor } from '@tandem/contracts';
import { nameBasedId } from '@tandem/delegation';
import type { CareRecord } from '@tandem/record';
import { DEMO } from './demo-data';
import { demoInsulinDelegationId } from './insulin-delegation';

/**
 * Mr Jones's medicines chart and today's visits, loaded at first start through the same commands
 * the JSON API runs (PrescribeMedication by the district nurse, PlanVisit by the registered
 * manager), so `npm start` shows the care worker's visits and doses (issue 13).
 *
 * The dm+d codes are as the record's tests use them and are UNVERIFIED against the dm+d browser.
 */
export const DEMO_AMLODIPINE = { system: DMD_SYSTEM, code: '319283006', display: 'Amlodipine 5mg tablets' } as const;
export const DEMO_PARACETAMOL = { system: DMD_SYSTEM, code: '42109611000001109', display: 'Paracetamol 500mg tablets' } as const;

const NURSE: Actor = { id: DEMO.nurse.practitionerId, role: 'district-nurse', organisation: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration };
const MANAGER: Actor = { id: DEMO.manager.practitionerId, role: 'registered-manager', organisation: DEMO.careAgency.organisationId };
const AMIRA = DEMO.careWorkers[0]!;

/** The demo's visit ids for a day: stable, so a second start of the same data plans nothing new. */
export const demoVisitId = (patientId: string, date: string, slot: 'morning' | 'evening') => nameBasedId(`demo|visit|${patientId}|${date}|${slot}`);

export const seedDemoMedicinesAndVisits = async (care: CareRecord, o: { patientId: string; now: Date; insulinDelegation?: boolean }): Promise<{ orderIds: string[]; visitIds: string[] }> => {
  const today = englandDate(o.now);
  const at = o.now.toISOString();
  const started = new Date(o.now.getTime() - 7 * 24 * 3_600_000).toISOString();
  const base = (name: string) => ({ idempotencyKey: `demo:medicines:${o.patientId}:${name}`, occurredAt: at, patientId: o.patientId });
  const amlodipine = await care.recordMedicines(
    'PrescribeMedication',
    { ...base('amlodipine'), product: DEMO_AMLODIPINE, dose: { value: 1, unit: 'tablet' }, route: 'oral', timing: { kind: 'scheduled', times: ['08:00', '18:00'] }, start: started, instructions: 'Swallow whole with water' },
    NURSE,
  );
  const paracetamol = await care.recordMedicines(
    'PrescribeMedication',
    { ...base('paracetamol'), product: DEMO_PARACETAMOL, dose: { value: 2, unit: 'tablet' }, route: 'oral', timing: { kind: 'prn', indication: 'pain', minimumIntervalMinutes: 240, maxDosesIn24Hours: 4 }, start: started },
    NURSE,
  );
  const slots = [
    { slot: 'morning' as const, start: '07:30', end: '08:30', tasks: [{ taskId: 'wash', description: 'Help with washing and dressing' }, { taskId: 'breakfast', description: 'Breakfast and a drink' }] },
    {
      slot: 'evening' as const,
      start: '17:30',
      end: '18:30',
      tasks: [
        { taskId: 'tea', description: 'Tea and a drink' },
        ...(o.insulinDelegation ? [{ taskId: 'insulin', description: 'Evening insulin by pen', delegationId: demoInsulinDelegationId(o.patientId) }] : []),
      ],
    },
  ];
  const visitIds: string[] = [];
  for (const s of slots) {
    const visitId = demoVisitId(o.patientId, today, s.slot);
    await care.visits.plan(
      { ...base(`visit:${today}:${s.slot}`), visitId, providerOrganisationId: DEMO.careAgency.organisationId, plannedStart: englandInstant(today, s.start), plannedEnd: englandInstant(today, s.end), careWorkerIds: [AMIRA.practitionerId], tasks: s.tasks },
      MANAGER,
    );
    visitIds.push(visitId);
  }
  return { orderIds: [amlodipine.id, paracetamol.id].filter((id): id is string => typeof id === 'string'), visitIds };
};
