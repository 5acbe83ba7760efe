import { Visitor } from "../../core/visitor.js";

/** The body of a webhook: the event's name, when it happened, and what its handlers were given. */
export interface WebhookPayload {
  /** The event's name, e.g. `"selfServiceVisitorCreated"`. */
  type: string;
  /** When the event was sent off, ISO 8601. */
  timestamp: string;
  /**
   * What the event carries, as JSON: always with `visitor` (its `serialize()`, without `uuid`,
   * the token, unless `includeToken` is set; `id` names the pass), and the event's other fields
   * (`spent`, `signals`…).
   */
  data: Record<string, unknown>;
}

/** The payload of event `type` given `payload`, as JSON-safe data. */
export function webhookPayload(
  type: string,
  payload: unknown,
  at: Date,
  includeToken: boolean,
): WebhookPayload {
  const data = payload instanceof Visitor ? { visitor: payload } : payload;
  const json = toJson(data, includeToken, 0);
  return {
    type,
    timestamp: at.toISOString(),
    data:
      typeof json === "object" && json !== null && !Array.isArray(json)
        ? (json as Record<string, unknown>)
        : { value: json },
  };
}

function toJson(value: unknown, includeToken: boolean, depth: number): unknown {
  if (value instanceof Visitor) {
    const { uuid, ...rest } = value.serialize();
    return includeToken ? { ...rest, uuid } : rest;
  }
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "bigint") return String(value);
  if (value === null || typeof value !== "object") {
    return typeof value === "function" || typeof value === "symbol" ? undefined : value;
  }
  if (depth > 10) return null;
  if (Array.isArray(value)) return value.map((item) => toJson(item, includeToken, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = toJson(item, includeToken, depth + 1);
  return out;
}
