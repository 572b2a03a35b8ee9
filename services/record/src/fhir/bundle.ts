import type { Bundle, BundleEntry, FhirResource as Resource, OperationOutcome } from 'fhir/r4';

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

/** self/next/previous links that work: they carry the same search with a different offset. */
export const pageLinks = (page: PageLinks): Bundle['link'] => [
  { relation: 'self', url: pageUrl(page, page.offset, page.count) },
  ...(page.offset + page.count < page.total ? [{ relation: 'next', url: pageUrl(page, page.offset + page.count, page.count) }] : []),
  ...(page.offset > 0 ? [{ relation: 'previous', url: pageUrl(page, Math.max(0, page.offset - page.count), page.count) }] : []),
];

export const entryFor = (fhirBase: string, resource: Resource, mode?: 'match' | 'include' | 'outcome'): BundleEntry => ({
  fullUrl: `${fhirBase}/${resource.resourceType}/${resource.id}`,
  resource,
  ...(mode ? { search: { mode } } : {}),
});

/** A search's own warning (what it left out, and why), as the OperationOutcome entry FHIR gives it. */
export const outcomeEntry = (outcome: OperationOutcome): BundleEntry => ({ resource: outcome, search: { mode: 'outcome' } });
