import { SCOPE_ANY, type WithVisitorOptions } from "visitor-pass/next";
import { refusal } from "./lib";

export const REFERENCE_SCOPE = "REFERENCE_REQUEST";

export const reference: WithVisitorOptions = { scope: REFERENCE_SCOPE, onRefused: refusal };
export const any: WithVisitorOptions = { scope: SCOPE_ANY, onRefused: refusal };
export const staff: WithVisitorOptions = {
  scope: REFERENCE_SCOPE,
  bypass: (request) => request.headers.get("x-staff") === "yes",
  onRefused: refusal,
};
export const nolog: WithVisitorOptions = {
  scope: REFERENCE_SCOPE,
  logVisit: false,
  onRefused: refusal,
};
export const apply: WithVisitorOptions = {
  scope: REFERENCE_SCOPE,
  selfService: true,
  onRefused: refusal,
};
/** `/references/[id]`: a pass sees the reference its context names; `?explode` makes it throw. */
export const ownReference: WithVisitorOptions = {
  scope: REFERENCE_SCOPE,
  match: (visitor, request) => {
    if (request.query.has("explode")) throw new Error("the reference lookup failed");
    return visitor.context?.referenceId === request.params.id;
  },
  onRefused: refusal,
};
