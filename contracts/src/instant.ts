/** Milliseconds since the epoch of an ISO date-time with an offset: instants are compared as numbers, never as strings. */
export const instantOf = (isoDateTime: string): number => Date.parse(isoDateTime);
