import { redirect } from "@sveltejs/kit";
import { clearVisitor } from "visitor-pass/fetch";
import { references } from "$lib/server/passes";
import type { Actions, PageServerLoad } from "./$types";

// Guarded in hooks.server.ts: only a visitor with a REFERENCE_REQUEST pass gets here.
export const load: PageServerLoad = ({ locals }) => ({ firstName: locals.visitor!.firstName });

export const actions: Actions = {
  default: async ({ request, locals }) => {
    const text = String((await request.formData()).get("text") ?? "").trim();
    if (!text) redirect(303, "/reference");
    references.push({ from: locals.visitor!.fullName, text });
    clearVisitor(locals.visitorPass); // The final step: her link does not let this browser in any more.
    return { sent: true };
  },
};
