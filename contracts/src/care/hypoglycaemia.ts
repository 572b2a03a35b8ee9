/**
 * The hypoglycaemia protocol, worded once. The bedside answer (computed on the phone and on the
 * server), the whole-record prompt and the insulin framework's prompt all read these steps, so a
 * care worker never sees two versions of what to do when blood glucose is below 4.0 mmol/L.
 * Source: JBDS-01 ("4 is the floor"): 15-20 g quick-acting carbohydrate, recheck after 10-15
 * minutes, repeat up to 3 times, still low -> call for help; then a longer-acting carbohydrate.
 */
export const HYPOGLYCAEMIA_BELOW_MMOL_L = 4.0;

export const HYPO_PROTOCOL_TITLE = 'Hypoglycaemia: blood glucose below 4.0 mmol/L';

/** `recheck` is how the recheck interval is said: a framework's minutes, or "10 to 15" when no rule has set it. */
export const hypoProtocolSteps = (recheck: string | number): string[] => [
  'Give 15-20 g of quick-acting carbohydrate now (for example 150-200 ml of pure fruit juice), if the person can swallow safely.',
  `Recheck blood glucose in ${recheck} minutes and record it.`,
  'Repeat up to 3 times while it stays below 4.0 mmol/L.',
  'Still below 4.0 mmol/L after 3 treatments, or the person is drowsy, unconscious or cannot swallow: call 999.',
  'Once it is 4.0 mmol/L or more, give a longer-acting carbohydrate (a sandwich, biscuits) or the next meal.',
];

/** The steps as a framework prompt: the recheck interval stays a placeholder the rule fills in. */
export const HYPO_PROTOCOL_PROMPT = { title: HYPO_PROTOCOL_TITLE, steps: hypoProtocolSteps('{recheckMinutes}') };
