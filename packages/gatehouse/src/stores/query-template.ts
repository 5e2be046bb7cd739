import type { Compilable, CompiledQuery, Kysely, QueryResult } from "kysely";

/** What runs a compiled query: the pool (a `Kysely`) or a transaction. */
export type Executor = Pick<Kysely<unknown>, "executeQuery">;

/** Prepares a query once on the driver; the function runs it with new parameters and resolves to its first row. */
export type Prepare = (query: CompiledQuery) => (parameters: readonly unknown[]) => Promise<unknown>;

/** A query compiled once; each call fills its named values in. */
export interface QueryTemplate<Name extends string, Row> {
  /** Runs the query with `values` on the pool, or on `on` (a transaction). */
  (values: Record<Name, unknown>, on?: Executor): Promise<QueryResult<Row>>;
  /** The compiled query with `values` filled in, for a batch. */
  bind(values: Record<Name, unknown>): CompiledQuery<Row>;
  /** The first row: through the driver's prepared statement when the template was given `prepare`. */
  first(values: Record<Name, unknown>): Promise<Row | undefined>;
}

/**
 * A query that Kysely builds and compiles once, with a marker for each named value; each call fills the
 * values in and runs it. For the queries on the request and log-in paths, where compiling the query anew cost
 * more than running it. With `prepare` (a lookup on every request), {@link QueryTemplate.first} runs it as a
 * statement the driver prepared once.
 */
export function queryTemplate<Name extends string, Row>(
  db: Executor,
  names: readonly Name[],
  build: (values: Record<Name, never>) => Compilable<Row>,
  prepare?: Prepare,
): QueryTemplate<Name, Row> {
  const markers = names.map((_, i) => `\u0000gatehouse-value-${i}\u0000`);
  const query = build(Object.fromEntries(names.map((name, i) => [name, markers[i]])) as Record<Name, never>).compile();
  const slots = query.parameters.map((parameter) => markers.indexOf(parameter as string));
  const missing = names.filter((_, i) => !slots.includes(i));
  if (missing.length > 0) throw new TypeError(`queryTemplate: ${missing.join(", ")} did not become parameters.`);
  const parameters = (values: Record<Name, unknown>) =>
    slots.map((slot, i) => (slot === -1 ? query.parameters[i] : values[names[slot] as Name]));
  const bind = (values: Record<Name, unknown>): CompiledQuery<Row> => ({ ...query, parameters: parameters(values) });
  const run = (values: Record<Name, unknown>, on: Executor = db) => on.executeQuery<Row>(bind(values));
  let prepared: ((parameters: readonly unknown[]) => Promise<unknown>) | undefined;
  // Prepared on first use, not here: the schema may not exist until the store's first call has migrated it.
  const first = (values: Record<Name, unknown>): Promise<Row | undefined> => {
    if (!prepare) return run(values).then((result) => result.rows[0]);
    prepared ??= prepare(query);
    return prepared(parameters(values)) as Promise<Row | undefined>;
  };
  return Object.assign(run, { bind, first });
}
