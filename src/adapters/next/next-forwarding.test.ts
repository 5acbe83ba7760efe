import { describe, expect, it } from "vitest";
import { forwardedRequest, forwardingHeaders, forwardingKey } from "./next-forwarding.js";

const KEY = forwardingKey("next-forwarding-test-secret-of-32+chars");

const URL_WITHOUT_TOKEN = "http://app.test/reference?a=1";

describe("what the proxy forwards to the code after it", () => {
  it("hands on the method, the URL without the token and the cookies Next has now", () => {
    const incoming = new Request("http://app.test/reference?a=1&vuid=x", {
      method: "POST",
      headers: { cookie: "app=1; visitor_pass=old", "user-agent": "test" },
    });
    const headers = forwardingHeaders(KEY, incoming, URL_WITHOUT_TOKEN, [
      { name: "visitor_pass", value: "new" },
    ]);
    expect(headers.get("cookie")).toBe("app=1; visitor_pass=new");
    const request = forwardedRequest(
      KEY,
      headers,
      [{ name: "visitor_pass", value: "new" }],
      "test()",
    );
    expect(request.method).toBe("POST");
    expect(request.url).toBe(URL_WITHOUT_TOKEN);
    expect(request.headers.get("cookie")).toBe("visitor_pass=new");
    expect(request.headers.get("user-agent")).toBe("test");
    expect(request.headers.get("x-visitor-pass-request")).toBeNull();
  });

  it("leaves out the _rsc parameter of Next's own data requests", () => {
    const url = "http://app.test/reference?a=1&_rsc=abc12";
    const headers = forwardingHeaders(KEY, new Request(url), url, []);
    expect(forwardedRequest(KEY, headers, [], "test()").url).toBe(URL_WITHOUT_TOKEN);
  });

  it("drops a cookie the proxy emptied", () => {
    const incoming = new Request("http://app.test/", { headers: { cookie: "visitor_pass=old" } });
    const headers = forwardingHeaders(KEY, incoming, "http://app.test/", [
      { name: "visitor_pass", value: "" },
    ]);
    expect(headers.get("cookie")).toBeNull();
  });

  it("refuses a request the proxy did not run for, or whose forwarded URL was changed", () => {
    expect(() => forwardedRequest(KEY, new Headers(), [], "requireVisitor()")).toThrow(
      /requireVisitor\(\) needs the visitor-pass proxy to have run on this request/,
    );
    const forged = new Headers({ "x-visitor-pass-request": "GET http://evil.test/" });
    expect(() => forwardedRequest(KEY, forged, [], "requireVisitor()")).toThrow(/proxy/);
    const headers = forwardingHeaders(KEY, new Request(URL_WITHOUT_TOKEN), URL_WITHOUT_TOKEN, []);
    headers.set("x-visitor-pass-request", "GET http://app.test/elsewhere");
    expect(() => forwardedRequest(KEY, headers, [], "requireVisitor()")).toThrow(/proxy/);
  });

  it("agrees across processes on the key of one secret; another secret's proof is refused", () => {
    const headers = forwardingHeaders(KEY, new Request(URL_WITHOUT_TOKEN), URL_WITHOUT_TOKEN, []);
    const same = forwardingKey("next-forwarding-test-secret-of-32+chars");
    expect(forwardedRequest(same, headers, [], "test()").url).toBe(URL_WITHOUT_TOKEN);
    const other = forwardingKey("another-secret-of-at-least-32-characters");
    expect(() => forwardedRequest(other, headers, [], "test()")).toThrow(/proxy/);
  });
});
