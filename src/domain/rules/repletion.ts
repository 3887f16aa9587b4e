import type { LabTiming, SuggestedOrder } from '../findings.js';

/** The vitamin D repletion suggestions shared by rules VD and SP. */
/**
 * Vitamin D repletion as in rule VD: ergocalciferol 50,000 IU weekly, or (when not deficient) cholecalciferol
 * 2,000 IU daily, and a recheck of 25(OH)D.
 */
export function repletionSuggestions(options: {
  readonly deficient: boolean;
  readonly recommendErgocalciferol: boolean;
  readonly recheck: LabTiming;
}): SuggestedOrder[] {
  return [
    { kind: 'medication', medication: 'ergocalciferolWeekly', recommended: options.recommendErgocalciferol },
    ...(options.deficient
      ? []
      : [{ kind: 'medication' as const, medication: 'cholecalciferolDaily' as const, recommended: false }]),
    { kind: 'lab', lab: 'vitaminD', recommended: true, timing: options.recheck },
  ];
}
