/**
 * The NestJS app under load (on the Express platform), run in its own process like
 * express-app.mjs; BENCH_MODE picks the variant; it prints "READY <port>" once listening.
 *
 * - `plain`: express-session and a controller whose route reads the session: the baseline.
 * - `visitor`: the same app with VisitorPassModule; the route is guarded by `@UserIsVisitor()`
 *   and each visit logged.
 *
 * Plain JavaScript against dist/, so the decorators are applied as the functions they are.
 * Both answer `GET /start` (plain: creates a session) and `GET /reference`; the visitor app admits
 * on `GET /reference?vuid=…`.
 */
import { Controller, Get, Inject, Module, Post, Req } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { ExpressAdapter } from "@nestjs/platform-express";
import express from "express";
import session from "express-session";
// The built package, as users run it (npm run bench builds first).
import {
  UserIsVisitor,
  VISITOR_PASS,
  VisitorPassModule,
} from "../../dist/adapters/nestjs/index.js";
import { createVisitorPass } from "../../dist/index.js";

const mode = process.env.BENCH_MODE ?? "plain";
const database = process.env.BENCH_DATABASE ?? "sqlite::memory:";

/** `decorators` applied to `Class.prototype[name]`, as TypeScript's legacy decorators would. */
function decorate(Class, name, ...decorators) {
  let descriptor = Object.getOwnPropertyDescriptor(Class.prototype, name);
  for (const decorator of decorators.reverse()) {
    descriptor = decorator(Class.prototype, name, descriptor) ?? descriptor;
  }
  Object.defineProperty(Class.prototype, name, descriptor);
}

class PlainController {
  start(req) {
    req.session.user = "ginger";
    return "ok";
  }
  reference(req) {
    return { who: req.session.user ?? null };
  }
}
Req()(PlainController.prototype, "start", 0);
Req()(PlainController.prototype, "reference", 0);
decorate(PlainController, "start", Get("start"));
decorate(PlainController, "reference", Get("reference"));
Controller()(PlainController);

let passes = null;
const imports = [];
const controllers = [PlainController];
if (mode !== "plain") {
  passes = createVisitorPass({
    database,
    env: {},
    passCache: { 0: false, listen: "listen" }[process.env.BENCH_PASS_CACHE ?? ""] ?? true,
  });
  await passes.migrate();
  imports.push(VisitorPassModule.forRoot({ passes }));

  class VisitorController {
    constructor(passes) {
      this.passes = passes;
    }
    reference(req) {
      return { who: req.visitor?.uuid ?? null };
    }
    async pass() {
      const visitor = await this.passes.create({
        email: "ginger@example.org",
        scope: "REFERENCE_REQUEST",
        expiresAt: null,
      });
      return { uuid: visitor.uuid };
    }
  }
  Inject(VISITOR_PASS)(VisitorController, undefined, 0);
  Req()(VisitorController.prototype, "reference", 0);
  decorate(
    VisitorController,
    "reference",
    Get("reference"),
    UserIsVisitor({ scope: "REFERENCE_REQUEST", logVisit: process.env.BENCH_LOG !== "0" }),
  );
  decorate(VisitorController, "pass", Post("bench/pass"));
  Controller()(VisitorController);
  // The guarded route replaces the plain one.
  controllers.splice(0, 1, VisitorController);
}

class AppModule {}
Module({ imports, controllers })(AppModule);

const app = await NestFactory.create(AppModule, new ExpressAdapter(express()), { logger: false });
app.use(session({ secret: "bench-secret", resave: false, saveUninitialized: false }));
await app.listen(0, "127.0.0.1");
process.on("SIGTERM", async () => {
  await app.close();
  await passes?.close();
  process.exit(0);
});
console.log(`READY ${app.getHttpServer().address().port}`);
