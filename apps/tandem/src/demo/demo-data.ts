import { englandDate, englandInstant, type Actor } from '@tandem/contracts';
import type { CareRecord } from '@tandem/record';
import { seededRandom, testNhsNumbers, type Random } from './random';

const NMC = 'https://fhir.hl7.org.uk/Id/nmc-number' as const;
const GMC = 'https://fhir.hl7.org.uk/Id/gmc-number' as const;

/**
 * The demo's organisations carry ODS codes, as real ones do (UK Core Organization's identifier).
 * DEMO: the nursing team's and the agency's are made up for the demo (an ODS-style code, not one
 * NHS England has issued to them); a deployment registers its organisations' real codes.
 */
export const DEMO = {
  gpPractice: { organisationId: 'Y12345', odsCode: 'Y12345', name: 'Riverside Surgery', type: 'gp-practice' as const },
  nursingTeam: { organisationId: 'org-north-district-nursing', odsCode: 'DEMO1NT', name: 'North Leeds District Nursing Team', type: 'district-nursing-team' as const },
  careAgency: { organisationId: 'org-kindly-care', odsCode: 'DEMO1CA', name: 'Kindly Care at Home', type: 'care-agency' as const },
  nurse: { practitionerId: 'nurse-sarah-okafor', name: { given: ['Sarah'], family: 'Okafor' }, role: 'district-nurse' as const, registration: { system: NMC, value: '12A3456E' } },
  gp: { practitionerId: 'gp-david-shah', name: { given: ['David'], family: 'Shah', prefix: 'Dr' }, role: 'gp' as const, registration: { system: GMC, value: '7012345' } },
  /** The care agency's registered manager: assigns its care workers to the people it takes on, reads its team's competences. */
  manager: { practitionerId: 'rm-helen-clarke', name: { given: ['Helen'], family: 'Clarke' }, role: 'registered-manager' as const },
  /**
   * A CQC inspector (role auditor): reads any service's indicators, the access trail and a record as
   * it was known at a moment; records nothing. Not a Practitioner of any organisation here.
   */
  inspector: { userId: 'cqc-grace-adeyemi', name: { given: ['Grace'], family: 'Adeyemi' }, role: 'auditor' as const, title: 'CQC inspector' },
  careWorkers: [
    { practitionerId: 'cw-amira-hassan', name: { given: ['Amira'], family: 'Hassan' } },
    { practitionerId: 'cw-tom-baker', name: { given: ['Tom'], family: 'Baker' } },
    { practitionerId: 'cw-grace-li', name: { given: ['Grace'], family: 'Li' } },
  ],
};

/**
 * The demo's on-call rotas, set after the record is loaded (the delegation service keeps them):
 * the nursing team's nurse by day, the practice's GP overnight, so the on-call tier of an
 * escalation always names someone (docs/clinical/escalation-recipients.md).
 */
export const DEMO_ROTAS = [
  { organisationId: DEMO.nursingTeam.organisationId, shifts: [{ practitionerId: DEMO.nurse.practitionerId, from: '08:00', until: '20:00' }] },
  { organisationId: DEMO.gpPractice.organisationId, shifts: [{ practitionerId: DEMO.gp.practitionerId, from: '20:00', until: '08:00' }] },
  // The care agency names its registered manager: a late or missed visit reaches Helen first (issue 13).
  { organisationId: DEMO.careAgency.organisationId, shifts: [], registeredManager: DEMO.manager.practitionerId },
];

/** Sets the demo's rotas through the delegation service's command edge (the same command as PUT /api/oncall-rotas/:organisationId). */
export const seedDemoRotas = async (commands: {
  setOnCallRota(command: { idempotencyKey: string; occurredAt: string; organisationId: string; shifts: { practitionerId: string; from: string; until: string }[]; registeredManager?: string }, actor: Actor): Promise<unknown>;
}): Promise<void> => {
  for (const rota of DEMO_ROTAS) {
    // The agency's rota is its manager's to set; the clinical rotas the nurse set as before.
    const actor: Actor = 'registeredManager' in rota ? { id: DEMO.manager.practitionerId, role: 'registered-manager', organisation: DEMO.careAgency.organisationId } : { id: DEMO.nurse.practitionerId, role: 'district-nurse' };
    await commands.setOnCallRota({ idempotencyKey: `demo:rota:${rota.organisationId}`, occurredAt: new Date().toISOString(), ...rota }, actor);
  }
};

const GIVEN = ['Arthur', 'Margaret', 'Harold', 'Joan', 'Stanley', 'Doreen', 'Kenneth', 'Irene', 'Albert', 'Edna', 'Walter', 'Winifred', 'Leonard', 'Phyllis', 'Ernest', 'Gladys'];
const FAMILY = ['Jones', 'Patel', 'Smith', 'Williams', 'Brown', 'Taylor', 'Khan', 'Davies', 'Evans', 'Wilson', 'Thomas', 'Roberts', 'Walker', 'Wright', 'Hughes', 'Green'];
const STREETS = ['Elm Grove', 'Chapel Lane', 'Kirkstall Road', 'Otley Road', 'Harehills Lane', 'Roundhay Road'];

const iso = (date: Date) => date.toISOString();

/** Within the worklist's two hours of today's 18:00 (England), the time of the demo's delegated evening dose. */
const nearTodaysEveningDose = (at: string, now: Date): boolean =>
  englandDate(new Date(at)) === englandDate(now) && Math.abs(Date.parse(at) - Date.parse(englandInstant(englandDate(now), '18:00'))) <= 2 * 3_600_000;

export interface DemoOptions {
  readonly patients: number;
  readonly days: number;
  readonly now: Date;
  readonly seed?: number;
  /** Called after each person, for progress on large seeds. */
  readonly onPatient?: (done: number, total: number) => void;
}

const vitals = (random: Random, unwell: boolean) => ({
  respirationRate: unwell ? random.int(20, 25) : random.int(12, 19),
  spo2: unwell ? random.int(91, 95) : random.int(95, 99),
  airOrOxygen: 'air' as const,
  systolic: unwell ? random.int(95, 110) : random.int(112, 150),
  diastolic: random.int(60, 85),
  pulse: unwell ? random.int(95, 115) : random.int(60, 88),
  consciousness: 'A' as const,
  temperatureC: unwell ? random.near(38.3, 0.4, 1) : random.near(36.7, 0.4, 1),
});

/**
 * A small, realistic record made through the same commands the apps use: a GP practice, a
 * district nursing team and a care agency; a nurse, a GP and care workers; people with weeks of
 * vital signs, and for those on insulin, glucose before each dose and the dose itself.
 */
export const seedDemoData = async (care: CareRecord, options: DemoOptions): Promise<{ patientIds: string[] }> => {
  const random = seededRandom(options.seed ?? 20261124);
  const nhsNumbers = testNhsNumbers(random);
  const start = new Date(options.now.getTime() - options.days * 86_400_000);
  const admin: Actor = { id: DEMO.nurse.practitionerId, role: 'district-nurse', registration: DEMO.nurse.registration };
  const key = (...parts: (string | number)[]) => `demo:${parts.join(':')}`;
  const at = iso(start);

  for (const org of [DEMO.gpPractice, DEMO.nursingTeam, DEMO.careAgency]) {
    await care.registerOrganisation({ idempotencyKey: key('org', org.organisationId), occurredAt: at, ...org }, admin);
  }
  await care.registerPractitioner({ idempotencyKey: key('pr', DEMO.nurse.practitionerId), occurredAt: at, ...DEMO.nurse, organisationId: DEMO.nursingTeam.organisationId }, admin);
  await care.registerPractitioner({ idempotencyKey: key('pr', DEMO.gp.practitionerId), occurredAt: at, ...DEMO.gp, organisationId: DEMO.gpPractice.organisationId }, admin);
  await care.registerPractitioner({ idempotencyKey: key('pr', DEMO.manager.practitionerId), occurredAt: at, ...DEMO.manager, organisationId: DEMO.careAgency.organisationId }, admin);
  for (const cw of DEMO.careWorkers) {
    await care.registerPractitioner({ idempotencyKey: key('pr', cw.practitionerId), occurredAt: at, ...cw, role: 'care-worker', organisationId: DEMO.careAgency.organisationId }, admin);
  }

  const patientIds: string[] = [];
  for (let p = 0; p < options.patients; p++) {
    const careWorker = DEMO.careWorkers[p % DEMO.careWorkers.length]!;
    const worker: Actor = { id: careWorker.practitionerId, role: 'care-worker', organisation: DEMO.careAgency.organisationId };
    const onInsulin = p % 3 === 0;
    const { patientId } = await care.registerPatient(
      {
        idempotencyKey: key('patient', p),
        occurredAt: at,
        nhsNumber: nhsNumbers.next().value!,
        name: { given: [GIVEN[p % GIVEN.length]!], family: FAMILY[(p * 7) % FAMILY.length]!, prefix: p % 2 ? 'Mrs' : 'Mr' },
        birthDate: `19${random.int(30, 55)}-0${random.int(1, 9)}-1${random.int(0, 9)}`,
        gender: p % 2 ? 'female' : 'male',
        address: { lines: [`${random.int(1, 120)} ${random.pick(STREETS)}`, 'Leeds'], postcode: `LS${random.int(1, 17)} ${random.int(1, 9)}AB` },
        gpPractice: { odsCode: DEMO.gpPractice.odsCode, name: DEMO.gpPractice.name },
        registeredGp: DEMO.gp.practitionerId,
      },
      admin,
    );
    patientIds.push(patientId);
    const team = [
      { practitionerId: DEMO.nurse.practitionerId, teamRole: 'accountable-clinician' as const },
      { practitionerId: DEMO.gp.practitionerId, teamRole: 'gp' as const },
      { practitionerId: careWorker.practitionerId, teamRole: 'care-worker' as const },
    ];
    for (const member of team) await care.addCareTeamMember({ idempotencyKey: key('team', p, member.practitionerId), occurredAt: at, patientId, ...member }, admin);

    // The last person's final days show deterioration, so the demo has something to notice.
    const deteriorates = p === options.patients - 1;
    for (let day = 0; day < options.days; day++) {
      const morning = new Date(start.getTime() + day * 86_400_000 + 9 * 3_600_000);
      if (morning > options.now) break;
      const unwell = deteriorates && day >= options.days - 2;
      // The demo's weeks of history are typed in at once: entries over 7 days old are confirmed late entries.
      await care.recordCare('RecordVitalSigns', { idempotencyKey: key('vitals', p, day), occurredAt: iso(morning), patientId, confirmedLate: true, ...vitals(random, unwell) }, worker);
      if (onInsulin) {
        for (const [slot, hour] of [['am', 8], ['pm', 17]] as const) {
          const time = new Date(start.getTime() + day * 86_400_000 + hour * 3_600_000);
          if (time > options.now) break;
          const glucose = random.near(8.5, 3.5, 1);
          await care.recordCare('RecordBloodGlucose', { idempotencyKey: key('bg', p, day, slot), occurredAt: iso(time), patientId, confirmedLate: true, glucoseMmolL: glucose, relationToMeal: 'before-meal' }, worker);
          const dose = { value: slot === 'am' ? 14 : 10, unit: 'units' as const };
          const doseTime = iso(new Date(time.getTime() + 5 * 60_000));
          // The history's times follow the start's time of day: a dose falling near today's 18:00 in
          // England would show the demo's delegated evening dose as done before anyone gave it, so it
          // is left out (the same draws made, so the rest of the history is unchanged).
          if (nearTodaysEveningDose(doseTime, options.now)) {
            if (glucose >= 4) {
              random.pick(['abdomen', 'thigh'] as const);
              random.pick(['left', 'right'] as const);
            }
            continue;
          }
          if (glucose < 4) {
            await care.recordCare('RecordInsulinWithheld', { idempotencyKey: key('ins', p, day, slot), occurredAt: doseTime, patientId, confirmedLate: true, product: 'Humulin I KwikPen', plannedDose: dose, reason: 'Blood glucose below 4 mmol/L: hypo protocol followed, nurse informed' }, worker);
          } else {
            await care.recordCare('RecordInsulinAdministered', { idempotencyKey: key('ins', p, day, slot), occurredAt: doseTime, patientId, confirmedLate: true, product: 'Humulin I KwikPen', device: 'pen', dose, site: random.pick(['abdomen', 'thigh'] as const), side: random.pick(['left', 'right'] as const) }, worker);
          }
        }
      }
    }
    options.onPatient?.(p + 1, options.patients);
  }
  return { patientIds };
};
