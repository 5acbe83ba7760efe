/**
 * `node bench/property-cost.mjs`: what one property costs on a request object, as Node hands it
 * to a server and as Express 5 hands it to middleware (Express gives each request its app's
 * request prototype with `Object.setPrototypeOf`, then the router and express-session add their
 * own properties).
 *
 * For each kind of request: the time to add one property, and to read one ten times, averaged
 * over real requests on a listening server (each timed with `process.hrtime`, whose own cost,
 * some 50–100 ns, is included). Why visitor-pass adds few properties to a request (its state,
 * `visitor`, `isVisitor`) and none to a response: bench/README.md.
 */
import http from "node:http";

const REQUESTS = 20_000;
const KEY = Symbol("bench");
const appRequest = Object.create(http.IncomingMessage.prototype);

const kinds = {
  "as Node makes it": () => {},
  "its prototype set (Express)": (req) => Object.setPrototypeOf(req, appRequest),
  "its prototype set, then a property added (Express's router and sessions)": (req) => {
    Object.setPrototypeOf(req, appRequest);
    req.sessionID = "x";
  },
};

function read(req) {
  return req.method;
}

async function measure(prepare) {
  let added = 0n;
  let reads = 0n;
  const server = http.createServer((req, res) => {
    prepare(req);
    let started = process.hrtime.bigint();
    for (let i = 0; i < 10; i++) read(req);
    reads += process.hrtime.bigint() - started;
    started = process.hrtime.bigint();
    req[KEY] = true;
    added += process.hrtime.bigint() - started;
    res.end("ok");
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}/`;
  for (let i = 0; i < REQUESTS; i++) await (await fetch(url)).arrayBuffer();
  server.closeAllConnections();
  server.close();
  return { addNs: Number(added) / REQUESTS, tenReadsNs: Number(reads) / REQUESTS };
}

console.log("| request | one property added | ten reads of `req.method` |");
console.log("|---|---:|---:|");
for (const [kind, prepare] of Object.entries(kinds)) {
  const { addNs, tenReadsNs } = await measure(prepare);
  console.log(`| ${kind} | ${addNs.toFixed(0)} ns | ${tenReadsNs.toFixed(0)} ns |`);
}
