// Defect 3 of issue 10: a password with JSON- and URL-special characters never reaches output in any form. The
// canary role's password holds `"`, `\`, space, `'`, `%`, `@` and `:`; the cluster checks it (scram-sha-256 for
// that role), the tests print it and fail with it raw, JSON-escaped, URL-encoded both ways, cut off in a
// truncated message, and inside a diff next to an unrelated `password: ...` value that must stay as it is. Every
// artifact is searched: stdout, stderr, the run record and the json reporter's document.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { Fixture } from '../helpers/fixture.js';
import { CLEAN_SERVER, clusterPerFile, runOn } from './support.js';
import type { RunView } from './support.js';

const ROLE = 'p10a_canary';
const PASSWORD = `Kx7 "q\\ w'%@:z9`;

const CANARY = {
  'test/canary.spec.js': `import { expect } from 'chai';
import { db } from 'bulkhead';
const pw = decodeURIComponent(new URL(process.env.DATABASE_URL).password);
describe('canary', function () {
  it('connects with the password and prints it in every form', async function () {
    await (await db()).query('SELECT 1');
    console.log('raw: ' + pw);
    console.log('json: ' + JSON.stringify({ pw }));
    console.error('uri: ' + encodeURIComponent(pw));
    const u = new URL('postgres://h/db');
    u.username = 'x';
    u.password = pw;
    console.error('whatwg: ' + u.password);
  });
  it('fails with the password JSON-escaped in its message', function () {
    throw new Error('config was ' + JSON.stringify({ password: pw }));
  });
  it('fails with a diff holding the password beside unrelated values', function () {
    expect({ user: 'app', password: pw, note: 'password: hunter22' }).to.deep.equal({ user: 'app', password: 'expected-secret-value', note: 'password: hunter22' });
  });
  it('fails with a message cut off inside the password', function () {
    const m = 'connecting with ' + pw;
    throw new Error(m.slice(0, m.length - 4) + '…');
  });
  it('fails comparing the connection string, which chai cuts off', function () {
    expect(process.env.DATABASE_URL).to.equal('postgres://elsewhere/db');
  });
});
`,
};

/** The password in every form a leak could take. */
function leakForms(pw: string): Record<string, string> {
  const u = new URL('postgres://h');
  u.password = pw;
  return { raw: pw, json: JSON.stringify(pw).slice(1, -1), uri: encodeURIComponent(pw), whatwg: u.password };
}

const TITLES = [
  'connects with the password and prints it in every form',
  'fails with the password JSON-escaped in its message',
  'fails with a diff holding the password beside unrelated values',
  'fails with a message cut off inside the password',
  'fails comparing the connection string, which chai cuts off',
];

describe('reliability: a password with JSON- and URL-special characters never leaks (issue 10, defect 3)', function () {
  this.timeout(60000);
  const rig = clusterPerFile();
  let spec: RunView;
  let json: RunView;
  let report = '';

  before(async function () {
    const { cluster } = rig();
    await cluster.query(`CREATE ROLE ${ROLE} LOGIN SUPERUSER PASSWORD '${PASSWORD.replace(/'/g, "''")}'`);
    // The canary's password is checked: scram for its role, ahead of the cluster's trust lines.
    const data = cluster.ctl('start').args[1] ?? '';
    const hba = path.join(data, 'pg_hba.conf');
    writeFileSync(hba, `host all ${ROLE} 127.0.0.1/32 scram-sha-256\n${readFileSync(hba, 'utf8')}`);
    await cluster.query('SELECT pg_reload_conf()');
    const url = new URL(rig().url);
    url.username = ROLE;
    url.password = encodeURIComponent(PASSWORD);
    const env = { DATABASE_URL: url.href };
    spec = await runOn(rig(), CANARY, ['test/*.spec.js'], { env });
    json = await runOn(rig(), CANARY, ['--reporter', 'json', '--reporter-option', 'output=report.json', 'test/*.spec.js'], {
      env,
      keep: (fx: Fixture) => {
        report = readFileSync(path.join(fx.dir, 'report.json'), 'utf8');
        fx.remove();
      },
    });
  });

  after(async function () {
    await rig().cluster.query(`DROP ROLE IF EXISTS ${ROLE}`).catch(() => undefined);
  });

  it('runs every test with the checked password: one passes, four fail', function () {
    for (const run of [spec, json]) {
      expect(run.tests, run.r.output).to.deep.equal(Object.fromEntries(TITLES.map((t, i) => [`test/canary.spec.js: canary ${t}`, i === 0 ? 'passed' : 'failed'])));
      expect(run.r.code, run.r.output).to.equal(1);
    }
    expect(JSON.parse(report).stats).to.include({ tests: 5, passes: 1, failures: 4 });
  });

  it('no artifact holds the password in any form, whole or a 4-character prefix of it', function () {
    const artifacts = { 'stdout (spec)': spec.r.stdout, 'stderr (spec)': spec.r.stderr, 'record (spec)': spec.recordText ?? '', 'stdout (json)': json.r.stdout, 'stderr (json)': json.r.stderr, 'record (json)': json.recordText ?? '', 'report.json': report };
    for (const [where, text] of Object.entries(artifacts)) {
      expect(text, where).to.not.equal('');
      for (const [form, value] of Object.entries(leakForms(PASSWORD))) {
        expect(text.includes(value), `${where} holds the password (${form})`).to.equal(false);
        expect(text.includes(value.slice(0, 4)), `${where} holds a prefix of the password (${form})`).to.equal(false);
      }
    }
  });

  it('shows the masks where the password was, and leaves unrelated values alone', function () {
    expect(spec.r.stdout).to.match(/^raw: \*\*\*$/m).and.match(/^json: \{"pw":"\*\*\*"\}$/m);
    expect(spec.r.stderr).to.match(/^uri: \*\*\*$/m).and.match(/^whatwg: \*\*\*$/m);
    expect(spec.r.stdout).to.include('connecting with ***…');
    expect(spec.r.stdout).to.include(`expected 'postgres://${ROLE}:***…' to equal 'postgres://elsewhere/db'`);
    // The diff keeps the expected value and the application's own "password: ..." text.
    expect(spec.r.stdout).to.include('"password": "expected-secret-value"').and.include('"note": "password: hunter22"');
    expect(report).to.include('expected-secret-value').and.include('password: hunter22');
  });

  it('leaves no session, abandons none, and drops its databases', function () {
    expect(spec.server, spec.r.output).to.deep.equal(CLEAN_SERVER);
    expect(json.server, json.r.output).to.deep.equal(CLEAN_SERVER);
  });
});
