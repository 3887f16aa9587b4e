import type { CdsCard, CdsResponse, CdsService, CdsSuggestion } from '@medplum/core';
import type { z } from 'zod';
import type { CdsCardOut } from '../../src/domain/findings.js';
import type {
  CardSchema,
  CdsRequestSchema,
  DiscoveryResponseSchema,
} from '../../src/schemas/wire-schemas.js';

/** Compiles only when T is assignable to U. */
type Extends<T extends U, U> = T;

// Compile-time checks, run by `npm run check` (part of `npm test`); this file has no runtime tests: our wire shapes stay in line with @medplum/core's CDS types.
export type CardIsMedplumCard = Extends<CdsCardOut, CdsCard>;
export type ResponseIsMedplumResponse = Extends<{ cards: CdsCardOut[] }, CdsResponse>;
export type SuggestionIsMedplumSuggestion = Extends<
  NonNullable<CdsCardOut['suggestions']>[number],
  CdsSuggestion
>;
export type CardFitsResponseSchema = Extends<CdsCardOut, z.input<typeof CardSchema>>;
export type DiscoveryEntryIsMedplumService = Extends<
  Pick<z.infer<typeof DiscoveryResponseSchema>['services'][number], 'id' | 'hook' | 'description'>,
  Pick<CdsService, 'id' | 'hook' | 'description'>
>;
export type RequestHasMedplumRequestFields = Extends<
  Pick<z.infer<typeof CdsRequestSchema>, 'hook' | 'hookInstance' | 'context'>,
  { hook: string; hookInstance: string; context: Record<string, unknown> }
>;
