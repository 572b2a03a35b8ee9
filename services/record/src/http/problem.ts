import type { Response } from 'express';

export interface ProblemField {
  readonly field: string;
  readonly message: string;
}

/** RFC 9457 problem details for the JSON command API. */
export const sendProblem = (
  res: Response,
  status: number,
  title: string,
  detail: string,
  extra: { code?: string; errors?: readonly ProblemField[]; [key: string]: unknown } = {},
) => res.status(status).type('application/problem+json').send(JSON.stringify({ type: 'about:blank', title, status, detail, ...extra }));
