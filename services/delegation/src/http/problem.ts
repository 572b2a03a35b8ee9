import type { Response } from 'express';

/** RFC 9457 problem details, as the care record's JSON API writes them. */
export const sendProblem = (res: Response, status: number, title: string, detail: string, extra: Record<string, unknown> = {}) =>
  res.status(status).type('application/problem+json').send(JSON.stringify({ type: 'about:blank', title, status, detail, ...extra }));
