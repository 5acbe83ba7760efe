// Save as app.ts in a project whose package.json says "type": "module" (ESM: this file uses
// top-level await) and whose tsconfig.json sets "experimentalDecorators": true (as `nest new`
// does), then run: SESSION_SECRET=$(openssl rand -hex 32) npx tsx app.ts
import {
  type ArgumentsHost,
  Catch,
  Controller,
  type ExceptionFilter,
  Get,
  Header,
  Module,
  Post,
  Redirect,
  Req,
} from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import type { NestExpressApplication } from "@nestjs/platform-express";
import type { Request, Response } from "express";
import session from "express-session";
import { createVisitorPass, handleSignals, type Visitor } from "visitor-pass";
import {
  CurrentVisitor,
  clearVisitor,
  UserIsVisitor,
  VisitorPassHttpException,
  VisitorPassModule,
} from "visitor-pass/nestjs";

const secret = process.env.SESSION_SECRET;
if (!secret) throw new Error("Set SESSION_SECRET (32+ random characters) to sign session cookies.");
const port = Number(process.env.PORT ?? 3000);
const site = process.env.SITE_URL ?? `http://localhost:${port}`; // where the links point
const html = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const passes = createVisitorPass(); // no I/O yet; sqlite:visitor-pass.sqlite3 by default
await passes.migrate(); // creates or updates its tables; safe at every start

@Controller()
class AskController {
  // Fred asks (in your app, a signed-in user's form): a pass for Ginger, and her link.
  @Get()
  @Header("Content-Type", "text/html; charset=utf-8")
  home() {
    return `<form method="post" action="/ask"><button>Ask Ginger for a reference</button></form>`;
  }

  @Post("ask")
  @Redirect("/", 303)
  async ask() {
    const visitor = await passes.create({
      email: "ginger@example.org",
      firstName: "Ginger",
      scope: "REFERENCE_REQUEST",
      context: { requestedBy: "fred" },
      expiresAt: new Date(Date.now() + 7 * 24 * 3600 * 1000), // default: tokenExpiry from now
    });
    const link = passes.tokenise(`${site}/reference`, visitor);
    console.log(`Send Ginger this link: ${link}`); // …?vuid=<uuid>; in your app, email it
  }

  @Get("thanks")
  @Header("Content-Type", "text/html; charset=utf-8")
  thanks() {
    return "<p>Thank you!</p>";
  }
}

// Ginger's pages: only visitors whose pass has this scope get in; each visit is logged.
@Controller("reference")
@UserIsVisitor({ scope: "REFERENCE_REQUEST" })
class ReferenceController {
  @Get()
  @Header("Content-Type", "text/html; charset=utf-8")
  form(@CurrentVisitor() visitor: Visitor) {
    return `<p>Hello ${html(visitor.firstName)}, Fred asks you for a reference.</p>
<form method="post"><textarea name="text"></textarea><button>Send</button></form>`;
  }

  @Post()
  @Redirect("/thanks", 303) // POST → 303 → page: Back does not resubmit
  send(@Req() request: Request) {
    // …save request.body.text…
    clearVisitor(request); // the final step: this session loses its access at once
  }
}

// Refusals are HttpExceptions: 403 VisitorAccessDenied, 503 VisitorPassUnavailable, … Without
// this filter, Nest's default one answers them as JSON.
@Catch(VisitorPassHttpException)
class VisitorRefusalFilter implements ExceptionFilter {
  catch(exception: VisitorPassHttpException, host: ArgumentsHost) {
    const page = `<h1>${exception.getStatus()}</h1><p>${html(exception.message)}</p>`;
    const response = host.switchToHttp().getResponse<Response>();
    response.status(exception.getStatus()).type("html").send(page);
  }
}

@Module({
  imports: [VisitorPassModule.forRoot({ passes })], // request.visitor, request.isVisitor
  controllers: [AskController, ReferenceController],
})
class AppModule {}

const app = await NestFactory.create<NestExpressApplication>(AppModule, { logger: ["error"] });
// The session first: the module mounts visitor-pass after it when the app starts.
app.use(session({ secret, resave: false, saveUninitialized: false }));
app.useGlobalFilters(new VisitorRefusalFilter());
await app.listen(port);
console.log(`Listening on ${site}`);
// On SIGTERM/SIGINT: stop the server, then write the visit logs and close the store.
handleSignals(async () => {
  await app.close();
  await passes.close();
});
