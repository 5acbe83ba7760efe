import type { PageServerLoad } from "./$types";

// Guarded in hooks.server.ts: anyone without an EARLY_ACCESS pass is sent to the self-service form.
export const load: PageServerLoad = ({ locals }) => ({ fullName: locals.visitor!.fullName });
