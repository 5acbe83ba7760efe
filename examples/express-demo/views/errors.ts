import { type Html, html } from "../html.js";
import { EARLY_ACCESS, REFERENCE_REQUEST } from "../scopes.js";
import type { Who } from "./layout.js";

export interface ErrorView {
  title: string;
  body: Html;
}

const home = html`<p><a href="/">Go to the home page</a></p>`;

/** What a pass of each scope is for, in the visitor's words. */
const PURPOSE: Record<string, string> = {
  [REFERENCE_REQUEST]: "writing a reference",
  [EARLY_ACCESS]: "early access to the dance floor",
};

/** 403: a guarded page without a pass for its scope (`scope`, the page's). */
export function accessDenied(who: Who, scope: string): ErrorView {
  if (who.visitor && who.visitor.scope !== scope) {
    const theirs = PURPOSE[who.visitor.scope] ?? `the scope ${who.visitor.scope}`;
    const page = PURPOSE[scope] ?? `the scope ${scope}`;
    return {
      title: "Your pass does not open this page",
      body: html`<p class="lead">
          Your invitation is for ${theirs}; this page is for ${page}, by another invitation.
        </p>
        ${home}`,
    };
  }
  return {
    title: "This page is for invited visitors",
    body: html`<p class="lead">You need a current invitation link to open this page.</p>
      <ul>
        ${scope === REFERENCE_REQUEST && html`<li>If you already sent your reference, your visit has ended. Thank you!</li>`}
        <li>If your link has expired, ask the person who invited you to send a new one.</li>
        ${
          who.user &&
          html`<li>
            You are signed in as ${who.user.name}, so a link sent to someone else is ignored
            here. Open it in a private window, or sign out first.
          </li>`
        }
      </ul>
      ${home}`,
  };
}

/** 400: a request the app cannot read, such as a damaged link. */
export function badRequest(message: string): ErrorView {
  return {
    title: "That request could not be read",
    body: html`<p class="lead">${message}</p>
      <p>If you followed a link from an email, check that you copied all of it.</p>
      ${home}`,
  };
}

/** 401: a page for signed-in users. */
export function signInRequired(): ErrorView {
  return {
    title: "Please sign in",
    body: html`<p class="lead">Only Fred can ask for references.</p>
      <form method="post" action="/sign-in">
        <button type="submit" class="button">Sign in as Fred</button>
      </form>`,
  };
}

export function notFound(): ErrorView {
  return { title: "Page not found", body: html`<p class="lead">There is nothing here.</p>${home}` };
}

/** Any other error: says nothing about what went wrong inside. */
export function otherError(status: number, message: string | null): ErrorView {
  return {
    title: status >= 500 ? "Something went wrong" : "That did not work",
    body: html`<p class="lead">
        ${message ?? "The server could not finish this request. Please try again later."}
      </p>
      ${home}`,
  };
}
