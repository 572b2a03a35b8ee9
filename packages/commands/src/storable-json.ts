import { isStorableText as storable } from '@tandem/contracts';

/**
 * A JSON.parse reviver for request bodies (express.json's `reviver`): refuses a string or key with
 * a NUL character or a lone surrogate. PostgreSQL's jsonb refuses both, so a command carrying one
 * failed at the append with a 500; refused while parsing, it is a 400 like any other bad JSON.
 */
export const storableJson = (key: string, value: unknown): unknown => {
  if (!storable(key) || (typeof value === 'string' && !storable(value))) {
    throw new SyntaxError('Text in the body must not contain NUL characters or unpaired surrogates');
  }
  return value;
};
