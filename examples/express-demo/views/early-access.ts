import { type Html, html } from "../html.js";
import type { Who } from "./layout.js";

const programme = [
  ["19:00", "The floor opens to early guests; the rhythm section warms up."],
  ["19:30", "Shim Sham for everyone on the floor."],
  ["20:00", "Doors open to all, and the band plays its first set."],
] as const;

/** The page behind `userIsVisitor({ scope: EARLY_ACCESS, selfService: true })`. */
export function earlyAccessPage(who: Who): Html {
  const name = who.visitor
    ? who.visitor.firstName || who.visitor.email
    : (who.user?.name ?? "guest");
  return html`<h1>Dance-floor early access</h1>
    <section class="panel panel-visitor" aria-labelledby="welcome-title">
      <h2 id="welcome-title">Welcome, ${name}</h2>
      ${
        who.visitor
          ? html`<p>
              You are on the list: the floor is yours an hour before the doors open. This browser
              keeps your pass until you close it.
            </p>`
          : html`<p>Members walk straight in: this page lets signed-in users through.</p>`
      }
    </section>
    <h2>Tonight</h2>
    <dl class="programme">
      ${programme.map(([time, what]) => html`<dt>${time}</dt><dd>${what}</dd>`)}
    </dl>
    <p class="hint">
      This page is guarded by
      <code>userIsVisitor({ scope: "EARLY_ACCESS", selfService: true })</code>. Without a pass
      for that scope you are sent to the library's self-service form; the link it emails (here:
      the outbox) makes you a visitor, and <code>bypass</code> lets Fred in as he is.
    </p>`;
}
