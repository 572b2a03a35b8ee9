import type { CarePromptIssuedData, CurrentEntry, EntryStreamEvent } from '@tandem/contracts';
import type { EventStore } from '@tandem/event-store';
import { DOSE_RULE_IDS } from '../frameworks/medicines';
import { careStreamEvent } from '../reactions/context';
import type { PromptRow } from '../reactions/read-model';
import { isDoseScheduled, ordersFrom, outcomeOfDose, type OrderFacts, type ScheduledDose } from '../rules/doses';
import { careStreamOf, medicinesStreamOf, promptStreamId } from './streams';

/**
 * A scheduled dose as the write model holds it now: its order (undefined when the order is stopped
 * or no longer asks for the dose) and the outcome recorded for it, if any. The one place both the
 * scheduler (whether to prompt or escalate) and the care worker's reads (whether a dose-overdue
 * prompt still stands) ask it, so they never disagree about a dose.
 */
export const doseAsItStands = async (store: EventStore, patientId: string, orderId: string, dose: ScheduledDose): Promise<{ order?: OrderFacts; outcome?: CurrentEntry }> => {
  const order = ordersFrom(await store.readStream(medicinesStreamOf(patientId)))[orderId];
  if (!order || !isDoseScheduled(order, dose)) return {};
  const care = (await store.readStream(careStreamOf(patientId))).map((e) => careStreamEvent(e) as unknown as EntryStreamEvent);
  const outcome = outcomeOfDose(order, dose, care);
  return { order, ...(outcome ? { outcome } : {}) };
};

/** The dose a dose-overdue prompt is about, with the order's product and dose, for the care worker's screen to link to. */
export type PromptDose = NonNullable<CarePromptIssuedData['dose']> & { readonly product: string; readonly dose: { readonly value: number; readonly unit: string } };
export type StandingPrompt = PromptRow & { readonly dose?: PromptDose };

/**
 * Open prompts as the care worker should see them: a dose-overdue prompt carries its dose (the
 * order, the time, whether time-critical), and goes once the dose has an outcome recorded or its
 * order no longer asks for it, acknowledged or not (the outcome is what the prompt asked for).
 * Every other prompt is as the read model holds it.
 */
export const standingPrompts = async (prompts: readonly PromptRow[], store: EventStore): Promise<StandingPrompt[]> => {
  const standing: StandingPrompt[] = [];
  for (const prompt of prompts) {
    if (prompt.ruleId !== DOSE_RULE_IDS.overdue) {
      standing.push(prompt);
      continue;
    }
    const issued = (await store.readStream(promptStreamId(prompt.promptId))).find((e) => e.type === 'CarePromptIssued')?.data as CarePromptIssuedData | undefined;
    const dose = issued?.dose;
    if (!dose) {
      standing.push(prompt);
      continue;
    }
    const { order, outcome } = await doseAsItStands(store, prompt.patientId, dose.orderId, dose);
    if (!order || outcome) continue;
    standing.push({ ...prompt, dose: { ...dose, product: order.details.product.display, dose: { value: order.details.dose.value, unit: order.details.dose.unit } } });
  }
  return standing;
};
