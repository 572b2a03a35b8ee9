import type { Actor, PersonFacts } from '@tandem/contracts';
import type { Framework } from '../../src/frameworks';
import { competenceSnapshotOf, delegationTimer } from '../../src/machines';
import { amira, ben, drShah, FakeClock, insulin, manager, MR_JONES, MRS_PATEL, nadia, scheduler, unregisteredNurse, uti } from '../fixtures';
import { delegationCommand, delegationStream, EVENING_INSULIN, trainAndSignOff } from '../stories';

const clock = new FakeClock('2025-03-03T09:00:00Z');
const amiraOnInsulin = trainAndSignOff(clock, amira, insulin, nadia);
const jones: PersonFacts = { ageYears: 78, diabetesStable: true, insulinDevice: 'pen' };

const propose = (o: { by?: Actor; framework?: Framework; eligibility?: PersonFacts; careWorker?: Actor; activityId?: string; general?: boolean } = {}) => {
  const framework = o.framework ?? insulin;
  const stream = delegationStream(framework);
  const careWorker = o.careWorker ?? amira;
  const decision = stream.run(
    o.by ?? nadia,
    delegationCommand(clock, 'd1', {
      type: 'ProposeDelegation',
      patientId: MR_JONES,
      frameworkId: framework.id,
      activityId: o.activityId ?? framework.activities[0]!.id,
      careWorker: { practitionerId: careWorker.id, role: careWorker.role },
      instruction: o.general ? { kind: 'general', plan: 'Watch and record' } : EVENING_INSULIN,
      eligibility: o.eligibility ?? jones,
    }),
  );
  return { stream, decision };
};

const say = (stream: ReturnType<typeof propose>['stream'], actor: Actor, command: Parameters<typeof delegationCommand>[2]) => stream.run(actor, delegationCommand(clock, 'd1', command));

describe('proposing: by a registered professional the framework allows, for an eligible person', () => {
  it.each([
    ['a care worker', amira, 'delegation.delegator.role-not-allowed', 'actor.role'],
    ['a registered manager', manager, 'delegation.delegator.role-not-allowed', 'actor.role'],
    ['a GP (insulin is delegated by district nurses)', drShah, 'delegation.delegator.role-not-allowed', 'actor.role'],
    ['a nurse without a registration on record', unregisteredNurse, 'delegation.delegator.registration-required', 'actor.registration'],
  ])('refuses a proposal by %s', (_who, by, code, field) => {
    expect(propose({ by }).decision).toMatchObject({ ok: false, refusal: { code, field } });
  });

  it('a GP may delegate watching a suspected UTI, for someone 65 or over', () => {
    expect(propose({ by: drShah, framework: uti, careWorker: ben, general: true, eligibility: { ageYears: 65 } }).decision.ok).toBe(true);
  });

  it.each([
    [{ ageYears: 64 }, 'eligibility.ageYears', 'ageYears is 64, needs at least 65'],
    [{}, 'eligibility.ageYears', 'ageYears was not recorded'],
  ])('refuses the UTI framework for %p', (eligibility, field, why) => {
    const { decision } = propose({ by: drShah, framework: uti, careWorker: ben, general: true, eligibility });
    expect(decision).toMatchObject({ ok: false, refusal: { code: 'delegation.person-not-eligible', field } });
    if (!decision.ok) expect(decision.refusal.reason).toContain(why);
  });

  it.each([
    [{ ...jones, diabetesStable: false }, 'eligibility.diabetesStable'],
    [{ ...jones, ageYears: 17 }, 'eligibility.ageYears'],
    [{ ...jones, insulinDevice: 'syringe' }, 'eligibility.insulinDevice'],
  ])('insulin is for a stable adult on a pen: refuses %p', (eligibility, field) => {
    expect(propose({ eligibility }).decision).toMatchObject({ ok: false, refusal: { code: 'delegation.person-not-eligible', field } });
  });

  it('needs the kind of instruction the activity needs (insulin: product, device, dose in units, times, sites, targets)', () => {
    expect(propose({ general: true }).decision).toMatchObject({ ok: false, refusal: { code: 'delegation.instruction-kind', field: 'instruction.kind' } });
  });

  it('refuses an activity the framework does not have, a care worker role it does not delegate to, and delegating to oneself', () => {
    expect(propose({ activityId: 'wound-care' }).decision).toMatchObject({ ok: false, refusal: { code: 'delegation.unknown-activity', field: 'activityId' } });
    expect(propose({ careWorker: manager }).decision).toMatchObject({ ok: false, refusal: { code: 'delegation.care-worker-role', field: 'careWorker.role' } });
    expect(propose({ careWorker: { ...nadia, role: 'care-worker' } }).decision).toMatchObject({ ok: false, refusal: { code: 'delegation.self' } });
  });
});

describe('accepting or declining: the named care worker only; declining is normal', () => {
  it('only Amira may accept or decline what was delegated to Amira', () => {
    const { stream } = propose();
    expect(say(stream, ben, { type: 'AcceptDelegation' })).toMatchObject({ ok: false, refusal: { code: 'delegation.not-the-care-worker', field: 'actor' } });
    expect(say(stream, ben, { type: 'DeclineDelegation' })).toMatchObject({ ok: false, refusal: { code: 'delegation.not-the-care-worker' } });
  });

  it('Amira declines without giving a reason: recorded, final', () => {
    const { stream } = propose();
    expect(say(stream, amira, { type: 'DeclineDelegation' })).toMatchObject({ ok: true, events: [{ type: 'DelegationDeclined', data: { careWorker: { practitionerId: 'amira' } } }] });
    expect(stream.state.value).toBe('declined');
    expect(stream.state.status).toBe('done');
  });

  it('a reason may be given', () => {
    const { stream } = propose();
    say(stream, amira, { type: 'DeclineDelegation', reason: 'I have not used this pen before' });
    expect(stream.last('DelegationDeclined').reason).toBe('I have not used this pen before');
  });
});

describe('activation: the person agreed and the care worker\'s competence is current', () => {
  const accepted = () => {
    const { stream } = propose();
    say(stream, amira, { type: 'AcceptDelegation' });
    return stream;
  };
  const current = competenceSnapshotOf(amiraOnInsulin.state)!;

  it('refuses without the person\'s agreement', () => {
    expect(say(accepted(), nadia, { type: 'ActivateDelegation', competence: current })).toMatchObject({
      ok: false,
      refusal: { code: 'delegation.person-agreement-required', field: 'personAgreement' },
    });
  });

  it.each([
    ['not signed off', { ...current, status: 'supervisedPractice' as const }, 'delegation.competence-not-current', 'competence.status'],
    ['suspended', { ...current, status: 'suspended' as const }, 'delegation.competence-not-current', 'competence.status'],
    ['expired', { ...current, validUntil: '2025-03-01T00:00:00Z' }, 'delegation.competence-expired', 'competence.validUntil'],
    ['someone else\'s', { ...current, careWorkerId: 'ben' }, 'delegation.competence-mismatch', 'competence'],
    ['for another framework', { ...current, frameworkId: uti.id }, 'delegation.competence-mismatch', 'competence'],
  ])('refuses a competence that is %s', (_what, competence, code, field) => {
    const stream = accepted();
    say(stream, nadia, { type: 'RecordPersonAgreement', agreement: { agreedBy: 'person' } });
    expect(say(stream, nadia, { type: 'ActivateDelegation', competence })).toMatchObject({ ok: false, refusal: { code, field } });
  });

  it('activates, with the review date the framework sets (90 days, LOCAL), and a review timer', () => {
    const stream = accepted();
    say(stream, nadia, { type: 'RecordPersonAgreement', agreement: { agreedBy: 'representative', representative: { name: 'Ann Jones', relationship: 'daughter' } } });
    expect(say(stream, nadia, { type: 'ActivateDelegation', competence: current }).ok).toBe(true);
    expect(stream.last('DelegationActivated').reviewDueAt).toBe('2025-06-04T09:00:00.000Z');
    expect(delegationTimer(stream.state)).toMatchObject({ dueAt: '2025-06-04T09:00:00.000Z', command: { type: 'MarkReviewDue', delegationId: 'd1' } });
    expect(say(stream, scheduler, { type: 'MarkReviewDue' })).toMatchObject({ ok: false, refusal: { code: 'delegation.review-not-due', field: 'occurredAt' } });
  });
});

describe('while active', () => {
  const active = () => {
    const { stream } = propose();
    say(stream, amira, { type: 'AcceptDelegation' });
    say(stream, nadia, { type: 'RecordPersonAgreement', agreement: { agreedBy: 'person' } });
    say(stream, nadia, { type: 'ActivateDelegation', competence: competenceSnapshotOf(amiraOnInsulin.state)! });
    return stream;
  };

  it('a care worker cannot suspend or end it, but may hand it back (withdraw) for any safety reason', () => {
    const stream = active();
    expect(say(stream, amira, { type: 'SuspendDelegation', reason: 'Not sure about this' })).toMatchObject({ ok: false, refusal: { code: 'delegation.suspender.role-not-allowed' } });
    expect(say(stream, amira, { type: 'EndDelegation', reason: 'Not sure about this' })).toMatchObject({ ok: false, refusal: { code: 'delegation.ender.role-not-allowed' } });
    expect(say(stream, ben, { type: 'WithdrawDelegation', reason: 'Not mine to withdraw' })).toMatchObject({ ok: false, refusal: { code: 'delegation.withdrawer.role-not-allowed' } });
    expect(say(stream, amira, { type: 'WithdrawDelegation', reason: 'Mr Jones now refuses injections from me' }).ok).toBe(true);
    expect(stream.state.value).toBe('withdrawn');
  });

  it('COMPETENCE_REVOKED suspends it at once, naming the cause', () => {
    const stream = active();
    say(stream, scheduler, { type: 'SuspendDelegationForCompetence', change: 'revoked' });
    expect(stream.last('DelegationSuspended')).toMatchObject({ cause: 'competence-revoked' });
    expect(stream.state.value).toBe('suspended');
  });

  it('a command for another delegation is refused', () => {
    const stream = active();
    expect(stream.run(nadia, delegationCommand(clock, 'd2', { type: 'EndDelegation', reason: 'wrong one' }))).toMatchObject({
      ok: false,
      refusal: { code: 'delegation.wrong-stream', field: 'delegationId' },
    });
  });
});

it('Mrs Patel\'s UTI delegation can be proposed by the GP to Ben, with a general instruction', () => {
  const stream = delegationStream(uti);
  stream.ok(
    drShah,
    delegationCommand(clock, 'patel', {
      type: 'ProposeDelegation',
      patientId: MRS_PATEL,
      frameworkId: uti.id,
      activityId: 'uti-observation',
      careWorker: { practitionerId: 'ben', role: 'care-worker' },
      instruction: { kind: 'general', plan: 'Daily screen, vital signs, fluid chart' },
      eligibility: { ageYears: 84 },
    }),
  );
  expect(stream.last('DelegationProposed')).toMatchObject({ delegatedBy: { practitionerId: 'dr-shah', registration: { system: 'https://fhir.hl7.org.uk/Id/gmc-number' } }, reviewIntervalDays: 3 });
});
