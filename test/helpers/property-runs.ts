/**
 * How many runs a property test makes: `full` in CI (CI=true) or with PROPERTY_RUNS=full; otherwise a tenth
 * (at least 20), so the everyday loop stays fast. PROPERTY_RUNS=<fraction> (e.g. 0.5) picks another share.
 * @param full - the run count a CI run makes
 */
export function propertyRuns(full: number): number {
  const setting = process.env['PROPERTY_RUNS'] ?? (process.env['CI'] ? 'full' : '0.1');
  const share = setting === 'full' ? 1 : Number(setting);
  if (!Number.isFinite(share) || share <= 0 || share > 1) {
    throw new Error(`PROPERTY_RUNS must be "full" or a fraction in (0, 1], not "${setting}"`);
  }
  return Math.min(full, Math.max(20, Math.round(full * share)));
}
