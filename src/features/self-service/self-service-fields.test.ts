import { describe, expect, it } from "vitest";
import { z } from "zod";
import { VisitorPassConfigError } from "../../core/errors.js";
import {
  defaultExtraFieldMessages,
  extraValues,
  MAX_EXTRA_FIELDS,
  parseExtras,
  resolveFields,
} from "./self-service-fields.js";
import { checkInitial, initialValues } from "./self-service-options.js";
import { checkSuccessOptions, isSameSitePath, redirectFor } from "./self-service-success.js";

const text = (maxLength?: number) => ({ label: "Text", schema: z.string(), maxLength });

describe("extra self-service fields", () => {
  it("refuses bad declarations at setup, naming the field", () => {
    const bad: [unknown, RegExp][] = [
      [[], /"fields"/],
      [{ "9lives": text() }, /"fields\.9lives"/],
      [{ __proto__x: text() }, /"fields\.__proto__x"/],
      [{ claimedAt: text() }, /"fields\.claimedAt".*package's own/],
      [{ firstName: text() }, /"fields\.firstName"/],
      [{ note: { label: "", schema: z.string() } }, /"fields\.note\.label"/],
      [{ note: { label: "Note" } }, /"fields\.note\.schema"/],
      [{ note: { label: "Note", schema: z.string(), type: "file" } }, /"fields\.note\.type"/],
      [{ note: text(0) }, /"fields\.note\.maxLength"/],
      [{ note: text(5000) }, /"fields\.note\.maxLength"/],
      [
        Object.fromEntries(
          Array.from({ length: MAX_EXTRA_FIELDS + 1 }, (_, i) => [`f${i}`, text()]),
        ),
        /at most 16/,
      ],
    ];
    for (const [fields, message] of bad) {
      expect(() => resolveFields(fields)).toThrow(VisitorPassConfigError);
      expect(() => resolveFields(fields)).toThrow(message);
    }
    expect(resolveFields(undefined)).toEqual([]);
  });

  it("reads only strings, bounded; refuses control characters, lone surrogates, too long", () => {
    const fields = resolveFields({
      name: text(5),
      note: { label: "Note", type: "textarea", schema: z.string() },
    });
    expect(extraValues(fields, { name: ["a", "b"], note: 3 })).toEqual({ name: "", note: "" });
    expect(extraValues(fields, { name: "x".repeat(50) }).name).toHaveLength(6);
    const parse = (values: Record<string, string>) =>
      parseExtras(fields, values, defaultExtraFieldMessages);
    expect(parse({ name: "abcdef", note: "" })).toEqual({
      ok: false,
      errors: { name: ["Use at most 5 characters."] },
    });
    expect(parse({ name: "a\tb", note: "one\ntwo\tthree" })).toMatchObject({
      ok: false,
      errors: { name: ["Remove the control characters."] },
    });
    expect(parse({ name: "ok", note: "\u0000" })).toMatchObject({
      errors: { note: expect.any(Array) },
    });
    expect(parse({ name: "\ud800", note: "" })).toMatchObject({
      errors: { name: expect.any(Array) },
    });
    expect(parse({ name: "😀", note: "one\r\ntwo" })).toEqual({
      ok: true,
      context: { name: "😀", note: "one\r\ntwo" },
    });
  });

  it("bounds the context the fields add altogether", () => {
    const fields = resolveFields(
      Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`f${i}`, text(2000)])),
    );
    const values = Object.fromEntries(fields.map((f) => [f.name, "x".repeat(2000)]));
    expect(parseExtras(fields, values, defaultExtraFieldMessages)).toEqual({
      ok: false,
      errors: { f5: ["These answers are too long altogether."] },
    });
  });
});

describe("the success redirect", () => {
  it("is a path on this site only", () => {
    for (const path of ["/", "/thanks", "/thanks?x=1#top", "/a/b%2F/c"]) {
      expect(isSameSitePath(path), path).toBe(true);
    }
    for (const path of [
      "https://evil.example/",
      "//evil.example/",
      "/\\evil.example",
      "\\\\evil.example",
      "thanks",
      "/th\nanks",
      "/\u0000",
      "javascript:alert(1)",
      `/${"a".repeat(3000)}`,
      42,
    ]) {
      expect(isSameSitePath(path), String(path)).toBe(false);
    }
    expect(() => checkSuccessOptions("https://evil.example/", undefined)).toThrow(
      /"successRedirect"/,
    );
    expect(() => checkSuccessOptions(undefined, "<p>thanks</p>")).toThrow(/"successPage"/);
    expect(() => checkSuccessOptions("/thanks", () => "")).not.toThrow();
  });

  it("given by a function: anything off-site, or a throw, is reported and refused", async () => {
    const errors: string[] = [];
    const logger = { warn: () => {}, error: (line: string) => errors.push(line) };
    const visitor = {} as never;
    expect(await redirectFor(() => "/welcome", visitor, logger)).toBe("/welcome");
    expect(await redirectFor(async () => "//evil.example", visitor, logger)).toBeNull();
    expect(
      await redirectFor(
        () => {
          throw new Error("boom");
        },
        visitor,
        logger,
      ),
    ).toBeNull();
    expect(errors).toHaveLength(2);
    expect(errors[1]).toContain("boom");
  });
});

describe("initial values", () => {
  const limits = { firstName: 150, lastName: 150, email: 254, company: 5 };
  const pending = { context: { redirectTo: "/apply?email=a%40b.example" } } as never;

  it("come from an object or a function of the query, strings only, cut to each field's length", async () => {
    const logger = { warn: () => {}, error: () => {} };
    expect(
      await initialValues(
        { company: "Acme Ltd", lastName: 3 as never, other: "x" },
        limits,
        "",
        pending,
        logger,
      ),
    ).toEqual({ firstName: "", lastName: "", email: "", company: "Acme " });
    const fromQuery = await initialValues(
      (query) => ({ email: query.get("email") ?? "" }),
      limits,
      "/visitors/self-service/x?email=ginger%40example.org#top",
      pending,
      logger,
    );
    expect(fromQuery.email).toBe("ginger@example.org");
    expect(() => checkInitial("ginger")).toThrow(/"initial"/);
    expect(() => checkInitial([])).toThrow(/"initial"/);
  });

  it("a function that throws leaves the form empty and tells the logger", async () => {
    const errors: string[] = [];
    const logger = { warn: () => {}, error: (line: string) => errors.push(line) };
    const values = await initialValues(
      () => {
        throw new Error("no query today");
      },
      limits,
      "/x?a=1",
      pending,
      logger,
    );
    expect(values).toEqual({ firstName: "", lastName: "", email: "", company: "" });
    expect(errors[0]).toContain("no query today");
  });
});
