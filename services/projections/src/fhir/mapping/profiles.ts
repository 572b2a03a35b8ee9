import { observationKindsOf, UK_CORE_PROFILE_BASE as UK_CORE, type ObservationKind } from '@tandem/contracts';
import type { FhirResource } from 'fhir/r4';

/**
 * The UK Core profile each served resource declares in `meta.profile` (docs/decisions/0035), one
 * place for every type. The tests hold each resource to the profile it declares
 * (@tandem/fhir-validation's expectValidUkCore), so a declared profile is a checked claim.
 */

/** UK Core's profile for each Observation kind. The panel has no SNOMED CT code (UK Core's vital-signs profile asks for one): the general profile. */
const OBSERVATION_PROFILE: Partial<Record<ObservationKind, string>> = {
  pulse: 'UKCore-Observation-VitalSigns-HeartRate',
  resp: 'UKCore-Observation-VitalSigns-RespirationRate',
  spo2: 'UKCore-Observation-VitalSigns-OxygenSaturation',
  temp: 'UKCore-Observation-VitalSigns-BodyTemperature',
  bp: 'UKCore-Observation-VitalSigns-BloodPressure',
  acvpu: 'UKCore-Observation-ACVPU',
  air: 'UKCore-Observation-InspiredOxygen',
  oxygen: 'UKCore-Observation-InspiredOxygen',
  glucose: 'UKCore-Observation-BloodGlucose',
  news2: 'UKCore-Observation-EarlyWarningTotalScore',
};

const TYPE_PROFILE: Readonly<Record<string, string>> = Object.fromEntries(
  ['Patient', 'Practitioner', 'PractitionerRole', 'Organization', 'CareTeam', 'CarePlan', 'Communication', 'Flag', 'Task', 'Appointment', 'Encounter', 'AuditEvent', 'Provenance', 'AllergyIntolerance', 'Condition', 'MedicationAdministration', 'MedicationRequest'].map((t) => [t, `UKCore-${t}`]),
);

/** The profile `resource` conforms to, or undefined for a type UK Core does not profile. */
export const ukCoreProfileOf = (resource: FhirResource): string | undefined => {
  if (resource.resourceType === 'Observation') {
    // UK Core's measurement profiles fix the status at `final`: an amended or entered-in-error one is only a UK Core Observation.
    const [kind] = observationKindsOf(resource.code.coding ?? []);
    // UK Core's blood pressure has a systolic value always: one recorded without it is only a UK Core Observation.
    const partial = kind === 'bp' && (resource.component ?? []).some((c) => c.valueQuantity === undefined);
    const specific = resource.status === 'final' && kind && !partial ? OBSERVATION_PROFILE[kind] : undefined;
    return `${UK_CORE}${specific ?? 'UKCore-Observation'}`;
  }
  const profile = TYPE_PROFILE[resource.resourceType];
  return profile ? `${UK_CORE}${profile}` : undefined;
};
