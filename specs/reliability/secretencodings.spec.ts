// The target's password, encoded as applications encode secrets, never reaches output: base64 of the password
// alone and of `user:password` (an HTTP Basic header, where the password sits at any byte alignment), URL-safe
// base64, and hex. Each was printed as it was while the raw and URL-encoded forms were masked. The cluster's trust
// authentication accepts any password, so the one in DATABASE_URL is the target's own without a role of its own.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { SERVER_URL, fixture, runCli } from '../helpers/fixture.js';
import type { CliResult, Fixture } from '../helpers/fixture.js';

const PASSWORD = 'Hunter2#Secret/ok~?';

const PROJECT = {
  'test/encoded.spec.js': `const pw = decodeURIComponent(new URL(process.env.DATABASE_URL).password);
const b64 = (t) => Buffer.from(t).toString('base64');
describe('encoded', function () {
  it('logs them', function () {
    console.log('basic ' + b64('app:' + pw));
    console.error('b64url ' + Buffer.from('{"password":"' + pw + '"}').toString('base64url'));
  });
  it('fails with base64', function () { throw new Error('b64 ' + b64(pw)); });
  it('fails with a Basic header', function () { throw new Error('Authorization: Basic ' + b64('a:' + pw)); });
  it('fails with hex', function () { throw new Error('hex ' + Buffer.from(pw).toString('hex').toUpperCase()); });
  it('keeps unrelated base64', function () { throw new Error('other ' + b64('nothing secret here')); });
});
`,
};

/** Every encoding of the password the tests print, whole. */
function leaks(pw: string): string[] {
  const b64 = (t: string): string => Buffer.from(t).toString('base64');
  return [pw, b64(pw), b64(`app:${pw}`), b64(`a:${pw}`), Buffer.from(`{"password":"${pw}"}`).toString('base64url'), Buffer.from(pw).toString('hex').toUpperCase()];
}

describe('reliability: the password base64- or hex-encoded in output is masked', function () {
  this.timeout(60_000);
  let fx: Fixture;
  let r: CliResult;
  let report = '';
  let record = '';

  before(async function () {
    fx = fixture(PROJECT);
    const url = new URL(SERVER_URL);
    url.username = 'postgres';
    url.password = encodeURIComponent(PASSWORD);
    r = await runCli(['-w', '1', '--reporter', 'json', '--reporter-option', 'output=report.json'], { cwd: fx.dir, env: { DATABASE_URL: url.href } });
    report = readFileSync(path.join(fx.dir, 'report.json'), 'utf8');
    record = readFileSync(path.join(fx.dir, '.bulkhead', 'last-run.json'), 'utf8');
  });
  after(() => fx.remove());

  it('runs every test: one passes, four fail', function () {
    expect(r.code, r.output).to.equal(1);
    expect(JSON.parse(report).stats).to.include({ tests: 5, passes: 1, failures: 4 });
  });

  it('no artifact holds an encoding of the password', function () {
    for (const [where, text] of Object.entries({ stdout: r.stdout, stderr: r.stderr, 'report.json': report, record })) {
      for (const leak of leaks(PASSWORD)) expect(text.includes(leak), `${where} holds ${leak}`).to.equal(false);
    }
  });

  it('shows the mask in its place and leaves other base64 alone', function () {
    expect(r.stdout).to.match(/^basic \*\*\*$/m);
    expect(r.stderr).to.match(/^b64url \*\*\*$/m);
    const messages = (JSON.parse(report) as { failures: { err: { message: string } }[] }).failures.map((f) => f.err.message);
    expect(messages).to.have.members(['b64 ***', 'Authorization: Basic ***', 'hex ***', `other ${Buffer.from('nothing secret here').toString('base64')}`]);
  });
});
