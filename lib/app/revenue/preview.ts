/** The deal-desk preview with this deployment's fee table (its policies come with the scenario). */
import { type PreviewResult, previewScenario, type Scenario } from '../../domain/revenue/preview';
import type { RevenueSettings } from './settings';

export function previewRevenue(
  settings: RevenueSettings,
  scenario: Scenario,
): Omit<PreviewResult, 'entries' | 'policies'> {
  const {
    entries: _entries,
    policies: _policies,
    ...rest
  } = previewScenario(scenario, {
    feeTable: settings.feeTable,
  });
  return rest;
}
