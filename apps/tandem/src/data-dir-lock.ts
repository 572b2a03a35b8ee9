import { randomUUID } from 'node:crypto';
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * The embedded data directory is held by one process at a time (docs/safety/hazard-log.md H38).
 * PGlite has no lock of its own: a second process opening the same directory works on a copy of
 * the database in its own memory, and what it writes (a sealed digest, a seeded record) is lost or
 * corrupts the first. So whoever opens the directory first writes `tandem.lock` into it, naming
 * itself; every other process reads that file and either talks to the owner over HTTP (the URL it
 * announced once listening) or refuses, saying who holds it.
 *
 * A crash leaves the file behind: a lock whose process is gone (same host, pid not alive, or alive
 * but started at another time: the pid was reused) is stale and is taken over, saying so.
 */
export const LOCK_FILE = 'tandem.lock';

const LockOwnerSchema = z.object({
  pid: z.number().int().positive(),
  host: z.string(),
  /** When the owning process started (ISO 8601). */
  startedAt: z.string(),
  /** The process's start time in clock ticks since boot (/proc/<pid>/stat), to tell a reused pid. */
  processStart: z.string().optional(),
  /** What holds it: `the server`, `npm run seed`, `npm run audit -- verify`, ... */
  holder: z.string(),
  /** Where the server listens, once it does (tools ask it rather than open the directory). */
  url: z.string().optional(),
});
export type LockOwner = z.infer<typeof LockOwnerSchema>;

/** The directory is held by another live process. */
export class DataDirLocked extends Error {
  constructor(
    readonly dataDir: string,
    readonly owner: LockOwner,
  ) {
    super(
      `${describeOwner(owner)}: stop it first${owner.url ? '' : ' (it is not serving HTTP, so nothing can be asked of it)'}` +
        // A lock from another host cannot be checked from here (a shared disk, or a copied directory): say how to clear it.
        (owner.host === hostname() ? '' : `; if nothing runs on ${owner.host} any more, remove ${join(dataDir, LOCK_FILE)}`),
    );
    this.name = 'DataDirLocked';
  }
}

/** "Tandem is running on this data directory (pid 1234, http://127.0.0.1:8090)". */
export const describeOwner = (owner: LockOwner): string =>
  `Tandem is running on this data directory (${owner.holder === 'the server' ? '' : `${owner.holder}, `}pid ${owner.pid}${owner.host === hostname() ? '' : ` on ${owner.host}`}${owner.url ? `, ${owner.url}` : ''}, since ${owner.startedAt})`;

/** Clock ticks since boot at which `pid` started (Linux); undefined where /proc is not there. */
const processStartOf = (pid: number): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the command name (which may hold spaces, inside parentheses).
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
};

const alive = (owner: LockOwner): boolean => {
  // On another host (a shared disk) the pid means nothing here: the lock is taken to be held.
  if (owner.host !== hostname()) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const start = processStartOf(owner.pid);
  return owner.processStart === undefined || start === undefined || start === owner.processStart;
};

const read = (file: string): { owner: LockOwner | undefined; raw: string } | undefined => {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed = LockOwnerSchema.safeParse(JSON.parse(raw));
    return { owner: parsed.success ? parsed.data : undefined, raw };
  } catch {
    // Half-written (a crash between create and write): nobody can be named, so it is stale.
    return { owner: undefined, raw };
  }
};

/** Who holds the directory now, if a live process does (a stale lock is nobody). */
export const dataDirOwner = (dataDir: string): LockOwner | undefined => {
  const found = read(join(dataDir, LOCK_FILE));
  return found?.owner && alive(found.owner) ? found.owner : undefined;
};

export interface DataDirLock {
  readonly owner: LockOwner;
  /** A stale lock that was taken over: whose it was. */
  readonly tookOverFrom: LockOwner | 'unreadable' | undefined;
  /** Records where the server listens, so tools can ask it. */
  announce(url: string): void;
  /** Removes the lock file (only if it is still this process's). */
  release(): void;
}

const write = (file: string, owner: LockOwner): void => {
  const temporary = `${file}.${process.pid}.${randomUUID()}`;
  writeFileSync(temporary, `${JSON.stringify(owner, null, 2)}\n`, { mode: 0o600 });
  try {
    linkSync(temporary, file);
  } finally {
    unlinkSync(temporary);
  }
};

/**
 * Takes the directory for this process, or throws DataDirLocked naming the live owner. Creating
 * the file is atomic (written aside, then hard-linked into place: the link fails if one exists),
 * so two processes starting together cannot both win.
 */
export const acquireDataDirLock = (dataDir: string, holder: string): DataDirLock => {
  const file = join(dataDir, LOCK_FILE);
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date(Date.now() - process.uptime() * 1000).toISOString(),
    ...(processStartOf(process.pid) ? { processStart: processStartOf(process.pid) } : {}),
    holder,
  };
  let tookOverFrom: DataDirLock['tookOverFrom'];
  for (let attempt = 0; ; attempt++) {
    try {
      write(file, owner);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw error;
    }
    const found = read(file);
    if (!found) continue;
    if (found.owner && alive(found.owner)) throw new DataDirLocked(dataDir, found.owner);
    // Stale: moved aside under a unique name, so a process that took it over meanwhile is not undone.
    const aside = `${file}.stale.${process.pid}.${randomUUID()}`;
    try {
      renameSync(file, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    if (readFileSync(aside, 'utf8') !== found.raw) {
      // Another process's fresh lock was moved: put it back and look again.
      try {
        linkSync(aside, file);
      } catch {
        // it has a newer one again; that one decides
      }
      unlinkSync(aside);
      continue;
    }
    unlinkSync(aside);
    tookOverFrom = found.owner ?? 'unreadable';
  }
  let current = owner;
  let held = true;
  return {
    get owner() {
      return current;
    },
    tookOverFrom,
    announce(url: string) {
      if (!held) return;
      current = { ...current, url };
      const temporary = `${file}.${process.pid}.${randomUUID()}`;
      writeFileSync(temporary, `${JSON.stringify(current, null, 2)}\n`, { mode: 0o600 });
      renameSync(temporary, file);
    },
    release() {
      if (!held) return;
      held = false;
      const found = read(file);
      if (found?.owner?.pid === owner.pid && found.owner.startedAt === owner.startedAt && found.owner.host === owner.host) unlinkSync(file);
    },
  };
};
