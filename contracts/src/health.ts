import { z } from 'zod';

export const CheckStatus = z.enum(['up', 'down', 'degraded']);

/** `/health`: 200 while the service can serve (`ok` or `degraded`), 503 when it cannot. */
export const Health = z.object({
  status: z.enum(['ok', 'degraded', 'down']),
  service: z.string(),
  checks: z.record(z.string(), z.object({ status: CheckStatus, detail: z.string().optional() })),
});
export type Health = z.infer<typeof Health>;
