import type { Compilable, Kysely, QueryResult } from "kysely";

/**
 * A query that Kysely builds and compiles once, with a marker for each named value; each call fills the
 * values in and runs it (on the pool, or in a transaction). For the queries on the request and log-in paths,
 * where compiling the query anew cost more than running it.
 */
/** What runs a compiled query: the pool (a `Kysely`) or a transaction. */
type Executor = Pick<Kysely<unknown>, "executeQuery">;

export function queryTemplate<Name extends string, Row>(
  db: Executor,
  names: readonly Name[],
  build: (values: Record<Name, never>) => Compilable<Row>,
): (values: Record<Name, unknown>, on?: Executor) => Promise<QueryResult<Row>> {
  const markers = names.map((_, i) => `\u0000gatehouse-value-${i}\u0000`);
  const query = build(Object.fromEntries(names.map((name, i) => [name, markers[i]])) as Record<Name, never>).compile();
  const slots = query.parameters.map((parameter) => markers.indexOf(parameter as string));
  const missing = names.filter((_, i) => !slots.includes(i));
  if (missing.length > 0) throw new TypeError(`queryTemplate: ${missing.join(", ")} did not become parameters.`);
  // `on`: a transaction to run in, instead of the pool.
  return (values, on = db) =>
    on.executeQuery<Row>({
      ...query,
      parameters: slots.map((slot, i) => (slot === -1 ? query.parameters[i] : values[names[slot] as Name])),
    });
}
