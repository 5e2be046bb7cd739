import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { queryTemplate } from "./query-template.js";

interface Tables {
  t: { k: string; n: number; fixed: number };
}

describe("queryTemplate", () => {
  const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: new BetterSqlite3(":memory:") }) });
  afterEach(async () => {
    await db
      .deleteFrom("t")
      .execute()
      .catch(() => undefined);
  });

  it("compiles once and fills each call's values in, keeping the query's own constants", async () => {
    await db.schema
      .createTable("t")
      .ifNotExists()
      .addColumn("k", "text")
      .addColumn("n", "integer")
      .addColumn("fixed", "integer")
      .execute();
    const insert = queryTemplate(db, ["k", "n"], (v) => db.insertInto("t").values({ k: v.k, n: v.n, fixed: 7 }));
    const select = queryTemplate(db, ["k"], (v) => db.selectFrom("t").selectAll().where("k", "=", v.k));
    await insert({ k: "a", n: 1 });
    await insert({ k: "b", n: 2 });
    expect((await select({ k: "b" })).rows).toEqual([{ k: "b", n: 2, fixed: 7 }]);
    expect((await select({ k: "c" })).rows).toEqual([]);
  });

  it("refuses a template whose named value never reaches the query", () => {
    expect(() =>
      queryTemplate(db, ["k", "unused"], (v) => db.selectFrom("t").selectAll().where("k", "=", v.k)),
    ).toThrow(/unused/);
  });
});
