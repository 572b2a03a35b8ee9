// The tests validate with the one validator $validate answers with (packages/fhir-validation).
export { expectValidFhir, fhirProblems } from '@tandem/fhir-validation';
