/**
 * Stream names are `category-id` shaped and portable to every back end: EventStoreDB reserves
 * names starting with `$`, and whitespace or control characters make audit output ambiguous.
 */
export const STREAM_NAME_MAX_LENGTH = 200;
const STREAM_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;

/** Returns why a stream name is refused, or undefined when it is fine. */
export const streamNameProblem = (stream: unknown): string | undefined => {
  if (typeof stream !== 'string' || stream.length === 0) return 'must be a non-empty string';
  if (stream.length > STREAM_NAME_MAX_LENGTH) return `must be at most ${STREAM_NAME_MAX_LENGTH} characters (got ${stream.length})`;
  if (!STREAM_NAME_PATTERN.test(stream)) return 'must start with a letter or digit and use only letters, digits and . _ : @ -';
  return undefined;
};
