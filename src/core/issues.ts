/** One violation in a 400's `issues` list: where (a dotted path) and what. */
export interface ErrorIssue {
  path: string;
  message: string;
}

interface ZodLikeIssue {
  path: PropertyKey[];
  message: string;
}

/** Flattens zod issues into the contract's `issues` list, one entry per violation. */
export function toIssues(issues: readonly ZodLikeIssue[]): ErrorIssue[] {
  return issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
}
