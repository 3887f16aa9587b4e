import type { Catalog, CdsServiceDefinition } from '../catalog/load-catalog.js';
import { createOrderLookup } from '../domain/existing-orders.js';
import type { CdsCardOut } from '../domain/findings.js';
import { renderCard } from '../domain/render-card.js';
import type { Decision } from './decide.js';
import type { ParsedRequest } from './parse-request.js';

/** Step 4 of a hook call: each finding as a card, in the catalog's wording, with its orders and links. */
export function renderCards(
  catalog: Catalog,
  service: CdsServiceDefinition,
  hookInstance: string,
  parsed: ParsedRequest,
  decision: Decision,
): CdsCardOut[] {
  const lookup = createOrderLookup(catalog.orders, decision.record, parsed.draftOrders);
  return decision.findings
    .map((finding) =>
      renderCard(finding, {
        cards: catalog.cards,
        orders: catalog.orders,
        lookup,
        serviceId: parsed.serviceId,
        serviceTitle: service.title,
        hookInstance,
        patientId: parsed.patientId,
        patientKey: decision.patientKey,
        now: decision.now,
      }),
    )
    .filter((card): card is CdsCardOut => card !== undefined);
}
