import { z } from "zod";
import { GENERATION_STATUSES } from "../core/status";

/** Oxen's statuses; anything unexpected is read as still running rather than rejected. */
const Status = z.enum(GENERATION_STATUSES).catch("processing");

export const EnqueueResponse = z.object({
  generations: z
    .array(z.object({ generation_id: z.string().min(1), status: Status.optional() }).loose())
    .min(1),
});

export const Generation = z
  .object({
    generation_id: z.string(),
    status: Status,
    result_url: z.string().nullish(),
    error_message: z.string().nullish(),
  })
  .loose();
export type Generation = z.output<typeof Generation>;

export const GenerationList = z.object({ count: z.number().optional(), generations: z.array(Generation) });

/** Both error envelopes Oxen uses. */
export const OxenErrorBody = z.union([
  z.object({ error: z.object({ message: z.string() }) }),
  z.object({
    error: z.object({
      type: z.string().optional(),
      title: z.string().optional(),
      detail: z.string().optional(),
    }),
    status_message: z.string().optional(),
  }),
]);

export const CompletionEvent = z
  .object({
    generation_id: z.string().min(1),
    status: z.string(),
    url: z.string().nullish(),
    error: z.string().nullish(),
  })
  .loose();

export const ModelObject = z
  .object({
    request_schema: z.unknown().optional(),
    json_request_schema: z.unknown().optional(),
  })
  .loose();
