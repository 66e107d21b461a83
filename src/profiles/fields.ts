/** Field types the profile schema is made of. */
import { z } from "zod";
import { durationMs } from "../faults/spec.js";

/** z.strictObject whose unknown-key error lists the allowed keys. */
export function strictObject<Shape extends z.ZodRawShape>(shape: Shape) {
  const allowed = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys" ? `unknown field; allowed: ${allowed}` : undefined,
  });
}

export function whole(min: number) {
  return z.number().int().min(min);
}

/** A duration such as `30s` or a number of ms → ms (> 0). */
export const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = durationMs(value);
  if (ms !== undefined && ms > 0) return ms;
  ctx.addIssue({ code: "custom", message: `expected a duration such as 30s, got "${value}"` });
  return z.NEVER;
});

export const hostPort = z
  .string()
  .regex(/^[^\s:]+:\d{1,5}$/, "expected host:port, e.g. 127.0.0.1:19092");
