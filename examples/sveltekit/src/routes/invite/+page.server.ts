import { passes, REFERENCE } from "$lib/server/passes";
import type { Actions } from "./$types";

export const actions: Actions = {
  default: async ({ url }) => {
    const ginger = await passes.create({
      email: "ginger@example.org",
      firstName: "Ginger",
      lastName: "Rogers",
      scope: REFERENCE,
      context: { for: "Fred" },
    });
    return { fullName: ginger.fullName, link: passes.tokenise(`${url.origin}/reference`, ginger) };
  },
};
