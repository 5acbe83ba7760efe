import type { Continue, Visitor } from "visitor-pass/fetch";

declare global {
  namespace App {
    interface Locals {
      /** The visitor on this request (admitted by its link or kept in the session), or null. */
      visitor: Visitor | null;
      /** What visitor-pass made of this request: `clearVisitor(locals.visitorPass)` ends the visit. */
      visitorPass: Continue;
    }
  }
}
