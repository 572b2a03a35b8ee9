import type { RecordedEvent } from '@tandem/event-store';
import { incrementalFold } from '../../src/application/incremental-fold';

const event = (id: string): RecordedEvent =>
  ({ id, stream: 's', revision: 0, position: 0, type: 'Counted', schemaVersion: 1, data: {}, metadata: {} }) as unknown as RecordedEvent;

describe('incremental fold', () => {
  it('folds only the events appended since the last fold, and gives the same state as a full fold', () => {
    const seen: string[] = [];
    const fold = incrementalFold<number>(0, (n, e) => (seen.push(e.id), n + 1));
    const events = [event('a'), event('b')];
    expect(fold('s', events)).toBe(2);
    expect(fold('s', [...events, event('c')])).toBe(3);
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('folds again from the start when the remembered prefix is not the stream it is given', () => {
    const fold = incrementalFold<string>('', (s, e) => s + e.id);
    expect(fold('s', [event('a'), event('b')])).toBe('ab');
    expect(fold('s', [event('x'), event('y'), event('z')])).toBe('xyz');
    expect(fold('t', [event('q')])).toBe('q');
  });
});
