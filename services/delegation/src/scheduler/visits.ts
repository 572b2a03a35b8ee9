import type { Actor, VisitFacts } from '@tandem/contracts';

/**
 * The port the scheduler needs from the care record's visits (the composition root passes the
 * record's VisitBook): notice a visit's deadline on the visit's own stream, decided there. This
 * service imports no record code (docs/decisions/0018).
 */
export interface VisitDeadlines {
  noticeDeadline(
    deadline: { readonly visitId: string; readonly kind: 'late' | 'missed'; readonly dueAt: string },
    actor: Actor,
  ): Promise<{ readonly eventIds: readonly string[]; readonly eventTypes: readonly string[]; readonly replayed: boolean; readonly position: number; readonly visit: VisitFacts; readonly why?: string }>;
}
