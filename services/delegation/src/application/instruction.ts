import type { Instruction } from '@tandem/contracts';

/** The person-specific instruction in one line, doses in "units" (never U or IU). */
export const instructionText = (instruction: Instruction | undefined): string => {
  if (!instruction) return '';
  if (instruction.kind === 'general') return `${instruction.plan}${instruction.times?.length ? ` (at ${instruction.times.join(', ')})` : ''}`;
  const { product, dose, times, sites, glucoseTargets, minimumIntervalMinutes } = instruction;
  return (
    `${dose.value} units of ${product} by ${instruction.device} at ${times.join(', ')}; sites ${sites.join(', ')}; ` +
    `blood glucose target ${glucoseTargets.lowMmolL}-${glucoseTargets.highMmolL} mmol/L; at least ${minimumIntervalMinutes} minutes between doses`
  );
};
