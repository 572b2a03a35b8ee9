import { jsonTextOf } from '@tandem/fhir-read-model';
import type { Bundle, BundleEntry, FhirResource as Resource, OperationOutcome } from 'fhir/r4';

/**
 * The query string exactly as the client sent it, as parameters in their order: a repeated
 * parameter stays repeated (`date=ge…&date=lt…` is AND; joining it into `date=ge…,lt…` makes an
 * OR, or a value the server refuses), and no value is re-encoded into another meaning.
 */
export const sentQuery = (originalUrl: string): URLSearchParams => {
  const at = originalUrl.indexOf('?');
  return new URLSearchParams(at < 0 ? '' : originalUrl.slice(at + 1));
};

const withQuery = (base: string, query: URLSearchParams): string => {
  const text = query.toString();
  return text ? `${base}?${text}` : base;
};

export interface SearchPageLinks {
  /** The absolute URL of this search without its query. */
  readonly base: string;
  readonly query: URLSearchParams;
  /** The next page's `_cursor`; none on the last page or for `_count=0`. */
  readonly nextCursor: string | undefined;
}

/**
 * self is the search as sent; next is the same search with the cursor of where this page ends
 * (keyset paging: stable while the record grows). No previous link: a cursor only goes forward.
 */
export const searchLinks = ({ base, query, nextCursor }: SearchPageLinks): Bundle['link'] => {
  const next = new URLSearchParams(query);
  next.delete('_cursor');
  next.delete('_offset');
  if (nextCursor !== undefined) next.append('_cursor', nextCursor);
  return [{ relation: 'self', url: withQuery(base, query) }, ...(nextCursor !== undefined ? [{ relation: 'next', url: withQuery(base, next) }] : [])];
};

export interface PageLinks {
  /** The absolute URL of this search without paging parameters. */
  readonly base: string;
  readonly query: URLSearchParams;
  readonly offset: number;
  readonly count: number;
  readonly total: number;
}

const pageUrl = ({ base, query }: PageLinks, offset: number, count: number): string => {
  const q = new URLSearchParams(query);
  q.set('_count', String(count));
  q.set('_offset', String(offset));
  return `${base}?${q.toString()}`;
};

/** Offset links (history, $everything): the same search, every other parameter as sent, at another offset. */
export const pageLinks = (page: PageLinks): Bundle['link'] => [
  { relation: 'self', url: pageUrl(page, page.offset, page.count) },
  ...(page.count > 0 && page.offset + page.count < page.total ? [{ relation: 'next', url: pageUrl(page, page.offset + page.count, page.count) }] : []),
  ...(page.count > 0 && page.offset > 0 ? [{ relation: 'previous', url: pageUrl(page, Math.max(0, page.offset - page.count), page.count) }] : []),
];

export const entryFor = (fhirBase: string, resource: Resource, mode?: 'match' | 'include' | 'outcome'): BundleEntry => ({
  fullUrl: `${fhirBase}/${resource.resourceType}/${resource.id}`,
  resource,
  ...(mode ? { search: { mode } } : {}),
});

/** A search's own warning (what it left out, and why), as the OperationOutcome entry FHIR gives it. */
export const outcomeEntry = (outcome: OperationOutcome): BundleEntry => ({ resource: outcome, search: { mode: 'outcome' } });

/**
 * An object's JSON text as JSON.stringify writes it (members in their order, a member whose value
 * writes as nothing left out), with `text` writing each member's value.
 */
const objectText = (value: object, text: (key: string, member: unknown) => string | undefined): string => {
  let out = '';
  for (const key of Object.keys(value)) {
    const written = text(key, (value as Record<string, unknown>)[key]);
    if (written !== undefined) out += `${out === '' ? '' : ','}${JSON.stringify(key)}:${written}`;
  }
  return `{${out}}`;
};

const entryText = (entry: BundleEntry): string =>
  objectText(entry, (key, value) => (key === 'resource' && value !== undefined && value !== null ? jsonTextOf(value as Resource) : JSON.stringify(value)));

/**
 * A bundle's JSON text, the same bytes as `JSON.stringify(bundle)`, with each entry's resource
 * written from the text its reader holds (a search or `$everything` of 20-50 resources then costs
 * the concatenation of ready text rather than stringifying every resource on every request).
 */
export const bundleJson = (bundle: Bundle): string =>
  objectText(bundle, (key, value) => (key === 'entry' && Array.isArray(value) ? `[${(value as BundleEntry[]).map(entryText).join(',')}]` : JSON.stringify(value)));
