/**
 * Text PostgreSQL will store: jsonb refuses a NUL character and a UTF-16 surrogate without its
 * pair (not a character at all). Request bodies are refused when they carry either; text Tandem
 * records itself about a request (the access trail) has them replaced.
 */
// eslint-disable-next-line no-control-regex -- the NUL is what must be found
const NOT_STORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export const isStorableText = (text: string): boolean => text.search(NOT_STORABLE) < 0;

/** The text with each unstorable character replaced by U+FFFD (the replacement character). */
export const storableText = (text: string): string => text.replace(NOT_STORABLE, '\uFFFD');
