import { readFile, rm, writeFile } from 'node:fs/promises';
import { eventually } from './eventually';
import { clusterStateDir, isAlive } from './rabbitmq-cluster-node';

/**
 * One test file at a time on the local cluster. Its ports and state folder are fixed, and a file
 * that stops it (or kills a node) would pull it from under another file running in a parallel jest
 * worker, so every file that starts it holds this lock from its beforeAll to its afterAll.
 *
 * A cross-process lock file, created with O_EXCL (`wx`) and holding the owner's pid: jest runs
 * files in separate worker processes, and a lock file works the same under `--runInBand`, `npm
 * test` and two jest runs at once, where a serial jest project would cover only one run's files.
 * A lock whose holder died without releasing it (a killed worker) is taken over. It lives beside
 * the state folder, not in it, since `stopLocalCluster` removes that folder.
 */
export interface LocalClusterLock {
  release(): Promise<void>;
}

/** Another file's whole run may come first: the cluster's boot, its load and its stop. */
const DEFAULT_WAIT_MS = 10 * 60_000;

export function localClusterLockPath(): string {
  return `${clusterStateDir()}.lock`;
}

export async function lockLocalCluster({ waitMs = DEFAULT_WAIT_MS } = {}): Promise<LocalClusterLock> {
  const path = localClusterLockPath();
  const mine = String(process.pid);
  await eventually(
    async () => {
      try {
        await writeFile(path, mine, { flag: 'wx' });
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = Number(await readFile(path, 'utf8').catch(() => ''));
      // Read between its creation and its write, the pid is still empty: that holder is alive.
      if (!holder || isAlive(holder))
        throw new Error(`the local cluster is held by process ${holder || '?'}`);
      await rm(path, { force: true });
      return false;
    },
    { timeoutMs: waitMs, intervalMs: 500, description: `the local cluster's lock (${path})` },
  );
  return {
    release: async () => {
      // Only our own: after a takeover the file may name another holder.
      if ((await readFile(path, 'utf8').catch(() => '')) === mine) await rm(path, { force: true });
    },
  };
}
