import { outbox } from "$lib/server/passes";
import type { PageServerLoad } from "./$types";

export const load: PageServerLoad = () => ({ mails: [...outbox] });
