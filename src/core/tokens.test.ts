import { afterAll, describe, expect, it } from "vitest";
import { createVisitorPass, MalformedVisitorToken, type Visitor } from "../index.js";
import {
  addToken,
  isOriginForm,
  isUuid,
  localPath,
  parseToken,
  pathOf,
  queryWithout,
  readToken,
  stripToken,
} from "./tokens.js";

const UUID = "0b6e1e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
const OTHER = "9f8e7d6c-5b4a-4c3d-9e2f-1a0b9c8d7e6f";

/** The token `readToken` finds on `url`, or `null`. */
function read(url: string, key = "vuid"): string | null {
  return readToken(url, key);
}

/** The error `readToken` throws for `url`, or "no error". */
function readError(url: string, key = "vuid"): unknown {
  try {
    readToken(url, key);
  } catch (error) {
    return error;
  }
  return "no error";
}

describe("isUuid / parseToken", () => {
  it("accepts a uuid in either case and gives it back in lower case", () => {
    expect(isUuid(UUID)).toBe(true);
    expect(isUuid(UUID.toUpperCase())).toBe(true);
    expect(parseToken(UUID.toUpperCase())).toBe(UUID);
  });

  it.each([
    "",
    "not-a-uuid",
    `${UUID} `,
    ` ${UUID}`,
    `${UUID}\n`,
    UUID.replace(/-/g, ""),
    `{${UUID}}`,
    UUID.replace("0", "g"),
    `${UUID}0`,
  ])("refuses %j", (value) => {
    expect(isUuid(value)).toBe(false);
    expect(() => parseToken(value)).toThrow(MalformedVisitorToken);
  });

  it("refuses what is not a string", () => {
    for (const value of [undefined, null, 42, {}, [UUID]]) {
      expect(isUuid(value)).toBe(false);
      expect(() => parseToken(value)).toThrow(MalformedVisitorToken);
    }
  });
});

describe("readToken", () => {
  it("is null when there is no query string or no token in it", () => {
    expect(read("/")).toBeNull();
    expect(read("/page")).toBeNull();
    expect(read("/page?")).toBeNull();
    expect(read("/page?a=1&b=2")).toBeNull();
    expect(read("https://example.com/page?a=1")).toBeNull();
  });

  it("finds one token, wherever it is in the query", () => {
    expect(read(`/page?vuid=${UUID}`)).toBe(UUID);
    expect(read(`/page?a=1&vuid=${UUID}&b=2`)).toBe(UUID);
    expect(read(`https://example.com/p?x=y&vuid=${UUID}`)).toBe(UUID);
  });

  it("normalises an upper-case token to lower case", () => {
    expect(read(`/page?vuid=${UUID.toUpperCase()}`)).toBe(UUID);
  });

  it("accepts the same token repeated (in any case)", () => {
    expect(read(`/p?vuid=${UUID}&vuid=${UUID}`)).toBe(UUID);
    expect(read(`/p?vuid=${UUID}&a=1&vuid=${UUID.toUpperCase()}`)).toBe(UUID);
  });

  it("refuses two different tokens with MalformedVisitorToken", () => {
    expect(readError(`/p?vuid=${UUID}&vuid=${OTHER}`)).toBeInstanceOf(MalformedVisitorToken);
  });

  it("refuses a good token repeated with a bad one", () => {
    expect(readError(`/p?vuid=${UUID}&vuid=nope`)).toBeInstanceOf(MalformedVisitorToken);
    expect(readError(`/p?vuid=nope&vuid=${UUID}`)).toBeInstanceOf(MalformedVisitorToken);
  });

  it("ignores keys that only look like the token's (vuid[], Vuid, xvuid, vuid2)", () => {
    expect(read(`/p?vuid[]=${UUID}`)).toBeNull();
    expect(read(`/p?vuid%5B%5D=${UUID}`)).toBeNull();
    expect(read(`/p?vuid[0]=nonsense`)).toBeNull();
    expect(read(`/p?VUID=${UUID}`)).toBeNull();
    expect(read(`/p?xvuid=${UUID}&vuid2=${OTHER}`)).toBeNull();
  });

  it("decodes a percent-encoded key and value", () => {
    expect(read(`/p?%76uid=${UUID}`)).toBe(UUID);
    expect(read(`/p?vuid=${UUID.replace(/-/g, "%2D")}`)).toBe(UUID);
  });

  it("never throws anything but MalformedVisitorToken on bad percent-encoding", () => {
    expect(readError("/p?vuid=%E0%A4%A")).toBeInstanceOf(MalformedVisitorToken);
    expect(readError("/p?vuid=%zz")).toBeInstanceOf(MalformedVisitorToken);
    expect(readError("/p?vuid=%")).toBeInstanceOf(MalformedVisitorToken);
    // A broken key is not the token's key: the request simply has no token.
    expect(read(`/p?%E0%A4%A=${UUID}`)).toBeNull();
    expect(read("/p?%=1&%%=2")).toBeNull();
    expect(read(`/p?%zz=1&vuid=${UUID}`)).toBe(UUID);
  });

  it("refuses an empty or missing value", () => {
    expect(readError("/p?vuid=")).toBeInstanceOf(MalformedVisitorToken);
    expect(readError("/p?vuid")).toBeInstanceOf(MalformedVisitorToken);
    expect(readError("/p?a=1&vuid=&b=2")).toBeInstanceOf(MalformedVisitorToken);
  });

  it("refuses a value that is a uuid with extra around it", () => {
    expect(readError(`/p?vuid=${UUID}x`)).toBeInstanceOf(MalformedVisitorToken);
    expect(readError(`/p?vuid=+${UUID}`)).toBeInstanceOf(MalformedVisitorToken);
    expect(readError(`/p?vuid=${UUID}%00`)).toBeInstanceOf(MalformedVisitorToken);
  });

  it("rejects huge values quickly", () => {
    const huge = "a".repeat(2_000_000);
    const started = performance.now();
    expect(readError(`/p?vuid=${huge}`)).toBeInstanceOf(MalformedVisitorToken);
    expect(readError(`/p?vuid=${"%41".repeat(500_000)}`)).toBeInstanceOf(MalformedVisitorToken);
    expect(read(`/p?${"a=1&".repeat(100_000)}b=2`)).toBeNull();
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("ignores the fragment", () => {
    expect(read(`/p#vuid=${UUID}`)).toBeNull();
    expect(read(`/p?a=1#vuid=${UUID}`)).toBeNull();
    expect(read(`/p?vuid=${UUID}#vuid=${OTHER}`)).toBe(UUID);
    expect(read(`/p#frag?vuid=${UUID}`)).toBeNull();
    expect(read("/p#vuid=garbage")).toBeNull();
  });

  it("reads a custom key", () => {
    expect(read(`/p?token=${UUID}&vuid=nope`, "token")).toBe(UUID);
    expect(read(`/p?vuid=${UUID}`, "token")).toBeNull();
  });
});

describe("query helpers", () => {
  it("pathOf drops the query and the fragment", () => {
    expect(pathOf("/a/b?c=d#e")).toBe("/a/b");
    expect(pathOf("/a/b#e?c=d")).toBe("/a/b");
    expect(pathOf("/a/b")).toBe("/a/b");
  });

  it("queryWithout removes every token parameter and keeps the rest as written", () => {
    expect(queryWithout(`/p?a=b%20c&vuid=${UUID}&flag&vuid=x`, "vuid")).toBe("a=b%20c&flag");
    expect(queryWithout("/p", "vuid")).toBe("");
    expect(queryWithout(`/p?vuid=${UUID}`, "vuid")).toBe("");
  });

  it("stripToken and addToken keep every other part", () => {
    expect(stripToken(`/p?x=1&vuid=${UUID}#top`, "vuid")).toBe("/p?x=1#top");
    expect(stripToken(`/p?vuid=${UUID}`, "vuid")).toBe("/p");
    expect(addToken("/p?x=1#top", "vuid", UUID)).toBe(`/p?x=1&vuid=${UUID}#top`);
  });
});

describe("passes.tokenise", () => {
  const passes = createVisitorPass({ env: {}, database: "sqlite::memory:" });
  const custom = createVisitorPass({ env: {}, database: "sqlite::memory:", querystringKey: "t" });
  afterAll(async () => {
    await passes.close();
    await custom.close();
  });

  it("adds the token to an absolute URL", () => {
    expect(passes.tokenise("https://example.com/reference", UUID)).toBe(
      `https://example.com/reference?vuid=${UUID}`,
    );
    expect(passes.tokenise("https://example.com", UUID)).toBe(`https://example.com?vuid=${UUID}`);
  });

  it("adds the token to a relative path", () => {
    expect(passes.tokenise("/reference/form", UUID)).toBe(`/reference/form?vuid=${UUID}`);
    expect(passes.tokenise("form", UUID)).toBe(`form?vuid=${UUID}`);
  });

  it("keeps an existing query byte for byte", () => {
    expect(passes.tokenise("/p?a=b%20c&flag&x=%E2%9C%93&y=1+2", UUID)).toBe(
      `/p?a=b%20c&flag&x=%E2%9C%93&y=1+2&vuid=${UUID}`,
    );
  });

  it("replaces an existing token (every copy of it)", () => {
    expect(passes.tokenise(`/p?vuid=${OTHER}&x=1`, UUID)).toBe(`/p?x=1&vuid=${UUID}`);
    expect(passes.tokenise(`/p?vuid=${OTHER}&vuid=garbage`, UUID)).toBe(`/p?vuid=${UUID}`);
    expect(passes.tokenise(`/p?%76uid=${OTHER}`, UUID)).toBe(`/p?vuid=${UUID}`);
  });

  it("keeps the fragment after the query", () => {
    expect(passes.tokenise("/p#section-2", UUID)).toBe(`/p?vuid=${UUID}#section-2`);
    expect(passes.tokenise("https://example.com/p?x=1#a?b", UUID)).toBe(
      `https://example.com/p?x=1&vuid=${UUID}#a?b`,
    );
  });

  it("takes a Visitor as well as a uuid string, and gives the lower-case uuid", () => {
    const visitor = { uuid: UUID } as Visitor;
    expect(passes.tokenise("/p", visitor)).toBe(`/p?vuid=${UUID}`);
    expect(passes.tokenise("/p", UUID.toUpperCase())).toBe(`/p?vuid=${UUID}`);
  });

  it("throws MalformedVisitorToken for a malformed uuid", () => {
    expect(() => passes.tokenise("/p", "not-a-uuid")).toThrow(MalformedVisitorToken);
    expect(() => passes.tokenise("/p", "")).toThrow(MalformedVisitorToken);
    expect(() => passes.tokenise("/p", { uuid: "x" } as Visitor)).toThrow(MalformedVisitorToken);
    expect(() => passes.tokenise("/p", undefined as never)).toThrow(MalformedVisitorToken);
  });

  it("uses the configured querystringKey", () => {
    expect(custom.tokenise("/p?vuid=keep", UUID)).toBe(`/p?vuid=keep&t=${UUID}`);
    expect(custom.tokenise(`/p?t=${OTHER}`, UUID)).toBe(`/p?t=${UUID}`);
  });

  it("a tokenised link reads back as the same token", () => {
    const url = passes.tokenise("https://example.com/p?a=b%20c&flag#x", UUID);
    expect(readToken(url, "vuid")).toBe(UUID);
    expect(stripToken(url, "vuid")).toBe("https://example.com/p?a=b%20c&flag#x");
  });
});

describe("request targets that are not a path", () => {
  it("isOriginForm tells a path from `*` and an absolute URL", () => {
    expect(isOriginForm("/")).toBe(true);
    expect(isOriginForm("/a?b=c")).toBe(true);
    expect(isOriginForm("*")).toBe(false);
    expect(isOriginForm("http://127.0.0.1:3000/a")).toBe(false);
    expect(isOriginForm("")).toBe(false);
  });

  it("reading a token from them does not throw", () => {
    expect(readToken("*", "vuid")).toBeNull();
    expect(readToken(`http://127.0.0.1:3000/x?vuid=${UUID}`, "vuid")).toBe(UUID);
    expect(() => readToken("http://127.0.0.1:3000/x?vuid=nope", "vuid")).toThrow(
      MalformedVisitorToken,
    );
    expect(stripToken(`http://127.0.0.1:3000/x?vuid=${UUID}&a=b`, "vuid")).toBe(
      "http://127.0.0.1:3000/x?a=b",
    );
  });

  it("pathOf gives the path of an absolute-form target, without its scheme and host", () => {
    expect(pathOf("http://127.0.0.1:3000/a/b?c=d")).toBe("/a/b");
    expect(pathOf("HTTPS://example.com/a")).toBe("/a");
    expect(pathOf("http://127.0.0.1:3000")).toBe("");
    expect(pathOf("*")).toBe("*");
  });

  it("localPath keeps a redirect on this site for an absolute-form target", () => {
    expect(localPath("http://127.0.0.1:3000/x?a=b")).toBe("/x?a=b");
    expect(localPath("http://evil.example//other.example/")).toBe("/other.example/");
    expect(localPath("http://evil.example")).toBe("/");
    expect(localPath("h\ttp://evil.example/x")).toBe("/x");
    expect(localPath("*")).toBe("/*");
    expect(localPath("//evil.example/")).toBe("/evil.example/");
  });
});
