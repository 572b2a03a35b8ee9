import { z } from 'zod';
import { defineEvent } from '../events';
import { RegistrationSchema, RoleSchema } from '../metadata';
import { Spo2ScaleSchema } from './observations';
import { commandBaseShape, DateSchema, IdSchema, PatientIdSchema, TemperatureCSchema, textSchema, type EventOf } from './common';

// ---------------------------------------------------------------------------------------------
// NHS number (docs/clinical/reference.md section 7)
// ---------------------------------------------------------------------------------------------

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

/**
 * Why a string is not a valid NHS number, or undefined when it is. Modulus 11: weights 10..2 on
 * digits 1 to 9; check digit = 11 - (sum mod 11); 11 becomes 0; 10 means no valid number.
 */
export const nhsNumberProblem = (value: unknown): string | undefined => {
  if (typeof value !== 'string') return 'must be a string of 10 digits';
  if (/\s/.test(value)) return 'must be 10 digits without spaces';
  if (!/^\d+$/.test(value)) return 'must contain digits only';
  if (value.length !== 10) return `must be 10 digits (got ${value.length})`;
  const digits = [...value].map(Number);
  const sum = digits.slice(0, 9).reduce((total, digit, i) => total + digit * (10 - i), 0);
  const check = 11 - (sum % 11);
  if (check === 10) return 'is not a valid NHS number: its check digit would be 10';
  if ((check === 11 ? 0 : check) !== digits[9]) return 'check digit does not match';
  return undefined;
};

export const isValidNhsNumber = (value: unknown): value is string => nhsNumberProblem(value) === undefined;

export const NhsNumberSchema = z.string({ error: 'must be a string of 10 digits' }).superRefine((value, ctx) => {
  const problem = nhsNumberProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: `NHS number ${problem}` });
});

// ---------------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------------

export const HumanNameSchema = z.object({
  given: z.array(textSchema(100)).min(1, { error: 'must hold at least one given name' }).max(5),
  family: textSchema(100),
  prefix: textSchema(40).optional(),
});
export type HumanName = z.infer<typeof HumanNameSchema>;

export const GenderSchema = z.enum(['male', 'female', 'other', 'unknown']);

/** UK postcode, e.g. "LS1 4AP" (the space is optional). */
export const PostcodeSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}$/, { error: 'must be a UK postcode such as LS1 4AP' });

export const AddressSchema = z.object({
  lines: z.array(textSchema(100)).min(1, { error: 'must hold at least one line' }).max(5),
  /** The town or city (FHIR Address.city), as a GP system sends it. */
  city: textSchema(100).optional(),
  /** The county (FHIR Address.district). */
  district: textSchema(100).optional(),
  postcode: PostcodeSchema,
});

/**
 * A way to reach the person (FHIR ContactPoint): a phone number or an email address, and what it is
 * for. A GP system sends them; they are kept, never dropped (issue 17 item 5).
 */
export const ContactPointSchema = z
  .object({
    system: z.enum(['phone', 'email'], { error: 'must be phone or email' }),
    value: textSchema(100),
    use: z.enum(['home', 'work', 'mobile', 'temp'], { error: 'must be home, work, mobile or temp' }).optional(),
  })
  .superRefine((contact, ctx) => {
    if (contact.system === 'phone' && !/^\+?[0-9][0-9 ()-]{5,19}$/.test(contact.value)) ctx.addIssue({ code: 'custom', path: ['value'], message: 'must be a phone number (digits, spaces, brackets or dashes, an optional leading +)' });
    if (contact.system === 'email' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(contact.value)) ctx.addIssue({ code: 'custom', path: ['value'], message: 'must be an email address' });
  });
export type ContactPoint = z.infer<typeof ContactPointSchema>;

/**
 * The NHS number's verification status, England's codes (UK Core
 * Extension-UKCore-NHSNumberVerificationStatus, CodeSystem UKCore-NHSNumberVerificationStatusEngland):
 * 01 present and verified, 02 present but not traced, ... 08 trace postponed (baby under six weeks).
 */
export const NHS_NUMBER_VERIFICATION_STATUSES = ['01', '02', '03', '04', '05', '06', '07', '08'] as const;
export const NhsNumberVerificationStatusSchema = z.enum(NHS_NUMBER_VERIFICATION_STATUSES, { error: 'must be one of the England NHS number verification status codes 01 to 08' });

/** Organisation Data Service code, e.g. a GP practice "A81001". */
export const OdsCodeSchema = z.string().regex(/^[A-Z0-9]{3,10}$/, { error: 'must be an ODS code (3 to 10 capital letters or digits)' });

export const GpPracticeSchema = z.object({ odsCode: OdsCodeSchema, name: textSchema(200) });

/** A registered clinician, named where a clinical decision needs one (e.g. prescribing SpO2 scale 2). */
export const RegisteredClinicianSchema = z.object({
  practitionerId: IdSchema,
  registration: RegistrationSchema,
});

/**
 * The person's usual self, agreed with the clinical team. SpO2 scale 2 is a clinician's decision
 * for this person (confirmed hypercapnic respiratory failure, target 88-92 %), so it lives here and
 * never on one reading; who prescribed it is required.
 */
export const BaselineSchema = z
  .object({
    usualTemperatureC: TemperatureCSchema.optional(),
    news2Baseline: z.number().int().min(0).max(20).optional(),
    spo2Scale: Spo2ScaleSchema,
    spo2Scale2PrescribedBy: RegisteredClinicianSchema.optional(),
  })
  .superRefine((baseline, ctx) => {
    if (baseline.spo2Scale === 2 && !baseline.spo2Scale2PrescribedBy) {
      ctx.addIssue({
        code: 'custom',
        path: ['spo2Scale2PrescribedBy'],
        message: 'SpO2 scale 2 must name the registered clinician who prescribed it',
      });
    }
    if (baseline.spo2Scale === 1 && baseline.spo2Scale2PrescribedBy) {
      ctx.addIssue({ code: 'custom', path: ['spo2Scale2PrescribedBy'], message: 'is only given with SpO2 scale 2' });
    }
  });
export type Baseline = z.infer<typeof BaselineSchema>;

/** Until a clinician agrees otherwise, SpO2 is scored on scale 1. */
export const DEFAULT_BASELINE: Baseline = { spo2Scale: 1 };

const patientDetailsShape = {
  name: HumanNameSchema,
  birthDate: DateSchema,
  gender: GenderSchema.optional(),
  address: AddressSchema.optional(),
  gpPractice: GpPracticeSchema,
  registeredGp: IdSchema.optional(),
  telecom: z.array(ContactPointSchema).min(1).max(10).optional(),
  nhsNumberVerificationStatus: NhsNumberVerificationStatusSchema.optional(),
};

// ---------------------------------------------------------------------------------------------
// Patient (stream patient-<nhsNumber>)
// ---------------------------------------------------------------------------------------------

/**
 * Registering is idempotent on the NHS number. The command has no patientId: the record service
 * allocates one, or returns the existing one when the NHS number is already registered.
 */
export const RegisterPatientSchema = z.strictObject({
  idempotencyKey: commandBaseShape.idempotencyKey,
  occurredAt: commandBaseShape.occurredAt,
  nhsNumber: NhsNumberSchema,
  ...patientDetailsShape,
  baseline: BaselineSchema.optional(),
});
export type RegisterPatient = z.infer<typeof RegisterPatientSchema>;

export const PatientRegistered = defineEvent(
  'PatientRegistered',
  z.object({ patientId: PatientIdSchema, nhsNumber: NhsNumberSchema, ...patientDetailsShape, baseline: BaselineSchema }),
);
export type PatientRegisteredData = z.infer<typeof PatientRegistered.schema>;

const detailsChangeShape = {
  name: HumanNameSchema.optional(),
  birthDate: DateSchema.optional(),
  gender: GenderSchema.optional(),
  address: AddressSchema.optional(),
  gpPractice: GpPracticeSchema.optional(),
  registeredGp: IdSchema.optional(),
  telecom: z.array(ContactPointSchema).min(1).max(10).optional(),
  nhsNumberVerificationStatus: NhsNumberVerificationStatusSchema.optional(),
};
const atLeastOneDetail = (value: Record<string, unknown>, ctx: z.RefinementCtx) => {
  if (Object.keys(detailsChangeShape).every((key) => value[key] === undefined)) {
    ctx.addIssue({ code: 'custom', path: [], message: `must change at least one of ${Object.keys(detailsChangeShape).join(', ')}` });
  }
};

/** Changes demographic details; fields left out stay as they were. The NHS number never changes. */
/** expectedVersion: the Patient version the change was made against (FHIR If-Match), checked by the decider on the stream. */
export const UpdatePatientDetailsSchema = z
  .strictObject({ ...commandBaseShape, ...detailsChangeShape, expectedVersion: z.number().int().positive().optional() })
  .superRefine(atLeastOneDetail);
export type UpdatePatientDetails = z.infer<typeof UpdatePatientDetailsSchema>;

export const PatientDetailsUpdated = defineEvent(
  'PatientDetailsUpdated',
  z.object({ patientId: PatientIdSchema, ...detailsChangeShape }).superRefine(atLeastOneDetail),
);
export type PatientDetailsUpdatedData = z.infer<typeof PatientDetailsUpdated.schema>;

export const SetPatientBaselineSchema = z.strictObject({ ...commandBaseShape, baseline: BaselineSchema });
export type SetPatientBaseline = z.infer<typeof SetPatientBaselineSchema>;

export const PatientBaselineSet = defineEvent('PatientBaselineSet', z.object({ patientId: PatientIdSchema, baseline: BaselineSchema }));
export type PatientBaselineSetData = z.infer<typeof PatientBaselineSet.schema>;

/** A person's role in this patient's team; the accountable clinician receives escalations. */
export const CareTeamRoleSchema = z.enum(['accountable-clinician', 'district-nurse', 'gp', 'care-worker', 'registered-manager']);

export const AddCareTeamMemberSchema = z.strictObject({ ...commandBaseShape, practitionerId: IdSchema, teamRole: CareTeamRoleSchema });
export type AddCareTeamMember = z.infer<typeof AddCareTeamMemberSchema>;

export const CareTeamMemberAdded = defineEvent(
  'CareTeamMemberAdded',
  z.object({ patientId: PatientIdSchema, practitionerId: IdSchema, teamRole: CareTeamRoleSchema }),
);
export type CareTeamMemberAddedData = z.infer<typeof CareTeamMemberAdded.schema>;

export const RemoveCareTeamMemberSchema = z.strictObject({
  ...commandBaseShape,
  practitionerId: IdSchema,
  teamRole: CareTeamRoleSchema,
  reason: textSchema(1000).optional(),
});
export type RemoveCareTeamMember = z.infer<typeof RemoveCareTeamMemberSchema>;

export const CareTeamMemberRemoved = defineEvent(
  'CareTeamMemberRemoved',
  z.object({ patientId: PatientIdSchema, practitionerId: IdSchema, teamRole: CareTeamRoleSchema, reason: textSchema(1000).optional() }),
);
export type CareTeamMemberRemovedData = z.infer<typeof CareTeamMemberRemoved.schema>;

// ---------------------------------------------------------------------------------------------
// Practitioners (stream practitioner-<id>) and organisations (stream organisation-<id>)
// ---------------------------------------------------------------------------------------------

export const PractitionerRoleSchema = RoleSchema.extract(['care-worker', 'district-nurse', 'gp', 'registered-manager']);
export type PractitionerRole = z.infer<typeof PractitionerRoleSchema>;

/** The register a registered role must be on: district nurses on the NMC's, GPs on the GMC's. */
export const REGISTER_FOR_ROLE: Partial<Record<PractitionerRole, z.infer<typeof RegistrationSchema>['system']>> = {
  'district-nurse': 'https://fhir.hl7.org.uk/Id/nmc-number',
  gp: 'https://fhir.hl7.org.uk/Id/gmc-number',
};

const practitionerShape = {
  practitionerId: IdSchema,
  name: HumanNameSchema,
  role: PractitionerRoleSchema,
  registration: RegistrationSchema.optional(),
  organisationId: IdSchema,
};
const registrationFitsRole = (value: { role: PractitionerRole; registration?: { system: string } | undefined }, ctx: z.RefinementCtx) => {
  const register = REGISTER_FOR_ROLE[value.role];
  if (!register) return;
  if (!value.registration) {
    ctx.addIssue({ code: 'custom', path: ['registration'], message: `is required for the role ${value.role}` });
  } else if (value.registration.system !== register) {
    ctx.addIssue({ code: 'custom', path: ['registration', 'system'], message: `must be ${register} for the role ${value.role}` });
  }
};

export const RegisterPractitionerSchema = z
  .strictObject({ idempotencyKey: commandBaseShape.idempotencyKey, occurredAt: commandBaseShape.occurredAt, ...practitionerShape })
  .superRefine(registrationFitsRole);
export type RegisterPractitioner = z.infer<typeof RegisterPractitionerSchema>;

export const PractitionerRegistered = defineEvent('PractitionerRegistered', z.object(practitionerShape).superRefine(registrationFitsRole));
export type PractitionerRegisteredData = z.infer<typeof PractitionerRegistered.schema>;

export const OrganisationTypeSchema = z.enum(['gp-practice', 'district-nursing-team', 'care-agency', 'care-home']);

const organisationShape = {
  organisationId: IdSchema,
  odsCode: OdsCodeSchema.optional(),
  name: textSchema(200),
  type: OrganisationTypeSchema,
};

export const RegisterOrganisationSchema = z.strictObject({
  idempotencyKey: commandBaseShape.idempotencyKey,
  occurredAt: commandBaseShape.occurredAt,
  ...organisationShape,
});
export type RegisterOrganisation = z.infer<typeof RegisterOrganisationSchema>;

export const OrganisationRegistered = defineEvent('OrganisationRegistered', z.object(organisationShape));
export type OrganisationRegisteredData = z.infer<typeof OrganisationRegistered.schema>;

export const patientEventDefinitions = [PatientRegistered, PatientDetailsUpdated, PatientBaselineSet, CareTeamMemberAdded, CareTeamMemberRemoved] as const;
export const practitionerEventDefinitions = [PractitionerRegistered] as const;
export const organisationEventDefinitions = [OrganisationRegistered] as const;

/** Events of a `patient-<nhsNumber>` stream. */
export type PatientEvent = EventOf<(typeof patientEventDefinitions)[number]>;
export type PractitionerEvent = EventOf<(typeof practitionerEventDefinitions)[number]>;
export type OrganisationEvent = EventOf<(typeof organisationEventDefinitions)[number]>;
