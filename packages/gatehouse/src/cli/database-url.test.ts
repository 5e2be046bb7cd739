import { describe, expect, it } from "vitest";
import { redactDatabaseUrl } from "./database-url.js";

describe("redactDatabaseUrl", () => {
  it("hides the whole password of the user info, even one with @ in it, where drivers end it: at the last @", () => {
    expect(redactDatabaseUrl("postgres://app:p@ss@db.example:5432/app")).toBe("postgres://app:***@db.example:5432/app");
    expect(redactDatabaseUrl("mysql://root:s%40cr%3At@db.example/app")).toBe("mysql://root:***@db.example/app");
    expect(redactDatabaseUrl("postgresql://:only-a-password@db.example/app")).toBe("postgresql://:***@db.example/app");
    // Unescaped "#", "/" and "?" in a password: none of it shows as a host, a path or a fragment.
    expect(redactDatabaseUrl("postgres://app:p@ss#word@db.example:5432/app")).toBe(
      "postgres://app:***@db.example:5432/app",
    );
    expect(redactDatabaseUrl("mysql://root:a/b?c@db.example/app")).toBe("mysql://root:***@db.example/app");
    expect(redactDatabaseUrl("hunter2")).toBe("***");
  });

  it("hides password query parameters, whatever their case: password, sslpassword, mysql2's password1", () => {
    const url = "postgres://app@db.example/app?sslmode=require&Password=hunter2&sslpassword=keypass&password1=second";
    expect(redactDatabaseUrl(url)).toBe(
      "postgres://app@db.example/app?sslmode=require&Password=***&sslpassword=***&password1=***",
    );
    expect(redactDatabaseUrl("postgres://app:one@db.example/app?password=two")).toBe(
      "postgres://app:***@db.example/app?password=***",
    );
  });

  it("hides other secrets passed as query parameters: tokens, secrets, keys", () => {
    const url = "postgres://app@db.example/app?auth_token=t1&client_secret=s1&apikey=k1&sslmode=require";
    expect(redactDatabaseUrl(url)).toBe(
      "postgres://app@db.example/app?auth_token=***&client_secret=***&apikey=***&sslmode=require",
    );
  });

  it("leaves a URL without a password exactly as written, SQLite paths included", () => {
    for (const url of [
      "postgres://app@db.example:5432/app?sslmode=require",
      "mysql://root@127.0.0.1/test",
      "file:data/gatehouse.db",
      ":memory:",
    ]) {
      expect(redactDatabaseUrl(url)).toBe(url);
    }
  });

  it("shows only the scheme of a URL that does not parse", () => {
    expect(redactDatabaseUrl("postgres://app:hunter2@/app")).toBe("postgres:***");
    expect(redactDatabaseUrl("mysql://root:hunter2@db.example:port/app")).toBe("mysql:***");
  });
});
