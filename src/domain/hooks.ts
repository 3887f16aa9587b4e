/** The CDS Hooks this product serves (CDS Hooks 2.0 names). */
export type HookName = 'patient-view' | 'order-select' | 'order-sign';
export const HOOK_NAMES: readonly HookName[] = ['patient-view', 'order-select', 'order-sign'];
