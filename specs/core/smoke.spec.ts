import { expect } from 'chai';
import { closingLine, fixture, runCli } from '../helpers/fixture.js';

describe('smoke: the CLI runs a passing file', function () {
  it('prints the closing line and exits 0', async function () {
    const fx = fixture({ 'test/a.spec.js': "import { db } from 'bulkhead';\nit('queries', async () => { await (await db()).query('SELECT 1'); });\n" });
    try {
      const r = await runCli(['-w', '1'], { cwd: fx.dir });
      expect(r.code, `exit ${r.code} (signal ${r.signal}); stdout: ${r.stdout}; stderr: ${r.stderr}`).to.equal(0);
      expect(closingLine(r.output)).to.deep.equal({ passed: 1, failed: 0, skipped: 0 });
    } finally {
      fx.remove();
    }
  });
});
