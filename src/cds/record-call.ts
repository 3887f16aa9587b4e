import type { FastifyBaseLogger } from 'fastify';
import type { CdsCardOut } from '../domain/findings.js';
import type { FeedbackService } from '../feedback/feedback-service.js';
import type { ResolvedPrefetch } from '../fhir/prefetch.js';
import type { Decision } from './decide.js';
import type { ParsedRequest } from './parse-request.js';

/**
 * Step 5 of a hook call: the cards shown go to the feedback store (for acceptance and override rates) and the
 * call to the log, with keys, situations and counts only, never patient data.
 */
export function recordCall(
  feedback: FeedbackService,
  hookInstance: string,
  parsed: ParsedRequest,
  gathered: ResolvedPrefetch,
  decision: Decision,
  cards: CdsCardOut[],
  log: FastifyBaseLogger,
  bindings: Readonly<Record<string, string>>,
): void {
  feedback.recordShown(
    cards,
    parsed.serviceId,
    hookInstance,
    decision.patientKey,
    decision.caller,
    decision.now,
  );
  log.info(
    {
      ...bindings,
      fetchedKeys: gathered.fetchedKeys,
      findings: decision.findings.map((finding) => finding.situation),
      cards: cards.length,
    },
    'hook answered',
  );
}
