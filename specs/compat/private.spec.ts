// The embedded server as root in a directory its OS user cannot traverse (issue 9, defect 10). The compatibility
// matrix's embedded row runs in such a directory (a mkdtemp folder, mode 0700), which covers the cached cluster;
// here, binaries that sit in such a directory are copied where the server's user can run them.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { locateBinaries } from '../../src/embedded/cache.js';
import type { ServerUser } from '../../src/embedded/cache.js';
import { reachable, reachableBinaries } from '../../src/embedded/reach.js';

describe('embedded PostgreSQL as root in a private directory', function () {
  this.timeout(60_000);

  it('copies binaries its OS user cannot reach to a place it can, once per version, and runs them as that user', async function () {
    if (process.getuid?.() !== 0) this.skip();
    const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    let user: ServerUser;
    try {
      user = { name: 'postgres', uid: id('-u'), gid: id('-g') };
    } catch {
      this.skip();
    }
    const installed = await locateBinaries();
    const native = path.dirname(path.dirname(installed.postgres));
    // A project under a folder only root may enter, as /root/app or `mktemp -d`.
    const hidden = mkdtempSync(path.join(tmpdir(), 'bulkhead-private-'));
    const cache = mkdtempSync(path.join(tmpdir(), 'bulkhead-cache-'));
    try {
      // A link is enough: the user must pass through the hidden folder to follow it.
      symlinkSync(native, path.join(hidden, 'native'), 'dir');
      const moved = (file: string): string => path.join(hidden, 'native', path.relative(native, file));
      const bins = { ...installed, postgres: moved(installed.postgres), initdb: moved(installed.initdb), version: 'private-test' };
      expect(statSync(hidden).mode & 0o777).to.equal(0o700);
      expect(await reachable(path.dirname(bins.postgres), user)).to.equal(false);

      const placed = await reachableBinaries(bins, cache, user, () => undefined);
      expect(placed.postgres).to.equal(path.join(cache, 'pg-private-test', 'native', 'bin', 'postgres'));
      expect(await reachable(path.dirname(placed.postgres), user)).to.equal(true);
      for (const bin of [placed.postgres, placed.initdb]) {
        const r = spawnSync(bin, ['--version'], { uid: user.uid, gid: user.gid, encoding: 'utf8' });
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stdout).to.match(/\(PostgreSQL\) \d+/);
      }
      // A second start finds the copy and leaves no staging directory behind.
      expect(await reachableBinaries(bins, cache, user, () => undefined)).to.deep.equal(placed);
      expect(existsSync(path.join(cache, 'pg-private-test'))).to.equal(true);
      expect(execFileSync('ls', [path.join(cache, 'pg-private-test')], { encoding: 'utf8' }).trim()).to.equal('native');
    } finally {
      rmSync(hidden, { recursive: true, force: true });
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
