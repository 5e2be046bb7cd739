/** A page's `searchParams`, as Next passes them to a Server Component. */
export type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/** One query parameter as text, or `null` when it is missing, empty or repeated. */
export function queryText(value: string | string[] | undefined): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}
