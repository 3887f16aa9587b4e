interface PrintableCard {
  readonly indicator: string;
  readonly summary: string;
  readonly detail?: string;
  readonly source?: { readonly topic?: { readonly code?: string } };
  readonly suggestions?: readonly { readonly label: string; readonly isRecommended?: boolean }[];
}

/** Cards as a clinician would skim them: indicator, summary, the facts used, the orders offered. */
export function formatCards(cards: readonly PrintableCard[]): string {
  if (cards.length === 0) {
    return '  (no cards)';
  }
  return cards
    .map((card) => {
      const facts =
        /\*\*Facts used\*\*\n((?:- .*\n?)+)/
          .exec(card.detail ?? '')?.[1]
          ?.trim()
          .split('\n') ?? [];
      const suggestions = (card.suggestions ?? []).map(
        (suggestion) => `      ${suggestion.isRecommended ? '*' : '-'} ${suggestion.label}`,
      );
      return [
        `  [${card.indicator.toUpperCase()}] ${card.summary}   (${card.source?.topic?.code ?? '?'})`,
        ...facts.map((fact) => `      ${fact}`),
        ...(suggestions.length > 0 ? ['    Orders offered (* recommended):', ...suggestions] : []),
      ].join('\n');
    })
    .join('\n');
}
