import { ActorSchema, type Actor } from '@tandem/contracts';
import type { Request } from 'express';

/** Who is asking. The actor in every event comes from here, never from a request body. */
export type Identify = (req: Request) => Actor | undefined;

/**
 * Development stand-in until bearer tokens arrive (issue 5): the caller names themselves in
 * `X-Tandem-User` and `X-Tandem-Role`. Never for production: anyone can claim anything.
 */
export const developmentIdentity: Identify = (req) => {
  const parsed = ActorSchema.safeParse({ id: req.get('x-tandem-user'), role: req.get('x-tandem-role') });
  return parsed.success ? parsed.data : undefined;
};
