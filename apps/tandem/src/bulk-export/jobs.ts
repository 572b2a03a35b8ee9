/**
 * The exports a process holds, and the bound on how many run at once. No I/O: the service
 * (service.ts) runs the jobs and keeps their files.
 */
export interface ExportOwner {
  readonly id: string;
  readonly role: string;
}

export interface HeldExport {
  readonly id: string;
  readonly owner: ExportOwner;
  status: 'running' | 'done' | 'failed';
}

export class ExportJobs<J extends HeldExport> {
  private readonly jobs = new Map<string, J>();

  constructor(readonly maxRunning: number) {}

  get running(): number {
    return [...this.jobs.values()].filter((j) => j.status === 'running').length;
  }

  get size(): number {
    return this.jobs.size;
  }

  /** Holds the job if fewer than `maxRunning` are running: checked and taken at once, so two kick-offs cannot both take the last place. */
  admit(job: J): boolean {
    if (this.running >= this.maxRunning) return false;
    this.jobs.set(job.id, job);
    return true;
  }

  /** The owner's job (the same actor id and role); someone else's is not theirs to know of. */
  of(id: string, owner: ExportOwner): J | undefined {
    const job = this.jobs.get(id);
    return job && job.owner.id === owner.id && job.owner.role === owner.role ? job : undefined;
  }

  remove(id: string): void {
    this.jobs.delete(id);
  }

  all(): J[] {
    return [...this.jobs.values()];
  }
}
