// Run by smoke.sh inside a throw-away project that installed the packed tarball, as a user would:
// the package's entry points load, export what the API promises, and a pass round-trips through
// SQLite (better-sqlite3, a native module, built on install).
import assert from "node:assert/strict";

const expected = {
  "visitor-pass": [
    "createVisitorPass",
    "SCOPE_ANY",
    "InvalidVisitorPass",
    "VisitorAccessDenied",
    "MalformedVisitorToken",
    "VisitorPassConfigError",
    "VisitorPassValidationError",
  ],
  "visitor-pass/express": [
    "visitorRequest",
    "visitorSession",
    "visitorPass",
    "userIsVisitor",
    "clearVisitor",
  ],
  // nodemailer is loaded on the first email only: the entry point loads without it.
  "visitor-pass/mail": ["mailSender", "subjectLine"],
};
const modules = {};
for (const [specifier, names] of Object.entries(expected)) {
  const mod = await import(specifier);
  modules[specifier] = mod;
  const missing = names.filter((name) => !(name in mod) || mod[name] === undefined);
  assert.deepEqual(missing, [], `${specifier} does not export ${missing.join(", ")}`);
  for (const name of names.filter((n) => n !== "SCOPE_ANY")) {
    assert.equal(typeof mod[name], "function", `${specifier}: ${name} is not a function or class`);
  }
  console.log(`${specifier}: exports ${names.join(", ")}`);
}
const core = modules["visitor-pass"];
assert.equal(core.SCOPE_ANY, "*");

const passes = core.createVisitorPass({ database: "sqlite::memory:" });
try {
  await passes.migrate();
  const visitor = await passes.create({ email: "ginger@example.org", scope: "REFERENCE_REQUEST" });
  assert.match(
    visitor.uuid,
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i,
  );
  const again = await passes.get(visitor.uuid);
  assert.ok(again, `get(${visitor.uuid}) found nothing`);
  assert.equal(again.email, "ginger@example.org");
  assert.equal(again.scope, "REFERENCE_REQUEST");
  console.log(`sqlite::memory: created and read back visitor pass ${visitor.uuid}`);
} finally {
  await passes.close();
}
console.log("runtime smoke test ok");
