import type { z } from 'zod';

/** "context.patientId: is required; hook: expected string" from zod issues, for 400 messages. */
export function formatIssues(prefix: string, issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter((part) => part.length > 0).join('.');
      const message = /received undefined$/.test(issue.message) ? 'is required' : issue.message;
      return `${path || '(body)'}: ${message}`;
    })
    .join('; ');
}
