/** The scopes of the passes this demo hands out, and of the pages they open. */

/** Fred's invitation to write him a reference: passes he creates for someone he names. */
export const REFERENCE_REQUEST = "REFERENCE_REQUEST";

/** The dance floor's early access: anyone asks for a pass themselves, on the self-service form. */
export const EARLY_ACCESS = "EARLY_ACCESS";
