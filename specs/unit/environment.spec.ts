// What user code finds in process.env (src/db/environment.ts, src/db/slots.ts): DATABASE_URL and PG* describing the
// one database its db() uses, with the user resolved as libpq does. Pure functions; no server.
import { expect } from 'chai';
import os from 'node:os';
import { connectionEnv, withUser } from '../../src/db/environment.js';
import { databaseSlot, schemaSlot, sharedSlot } from '../../src/db/slots.js';

const me = os.userInfo().username;

describe('unit: the connection environment given to user code', () => {
  it('spells a URL target out in every variable, keeping its query and password', () => {
    const env = connectionEnv({ connectionString: 'postgres://app:s%40cret@db.example:6543/shop_test?sslmode=disable' }, 'shop_test_bulkhead_w1', {});
    expect(env).to.deep.equal({
      DATABASE_URL: 'postgres://app:s%40cret@db.example:6543/shop_test_bulkhead_w1?sslmode=disable',
      PGHOST: 'db.example',
      PGPORT: '6543',
      PGUSER: 'app',
      PGPASSWORD: 's@cret',
      PGDATABASE: 'shop_test_bulkhead_w1',
    });
  });

  it('fills what the target leaves out from PG*, then defaults, the user from PGUSER or else the OS user (never USER)', () => {
    expect(connectionEnv(null, null, { PGHOST: '10.0.0.2', PGDATABASE: 'ci_test', USER: 'someone-else' })).to.deep.equal({
      DATABASE_URL: `postgres://${encodeURIComponent(me)}@10.0.0.2:5432/ci_test`,
      PGHOST: '10.0.0.2',
      PGPORT: '5432',
      PGUSER: me,
      PGDATABASE: 'ci_test',
    });
    expect(connectionEnv(null, null, { PGUSER: 'ci' })).to.include({ PGHOST: 'localhost', PGUSER: 'ci', PGDATABASE: 'ci' });
  });

  it('writes a socket directory as an encoded host, and an IPv6 host in brackets', () => {
    expect(connectionEnv({ host: '/var/run/postgresql', user: 'u', database: 'd' }, null, {})['DATABASE_URL']).to.equal('postgres://u@%2Fvar%2Frun%2Fpostgresql:5432/d');
    expect(connectionEnv({ host: '::1', port: 5433, user: 'u', database: 'd' }, null, {})['DATABASE_URL']).to.equal('postgres://u@[::1]:5433/d');
  });

  it('makes the user explicit: in a URL without one, and as a field for PG* alone', () => {
    expect(withUser({ connectionString: 'postgres://127.0.0.1:5432/t' }, {})).to.deep.equal({ connectionString: `postgres://${encodeURIComponent(me)}@127.0.0.1:5432/t` });
    expect(withUser({ connectionString: 'postgres://a@h/t' }, { PGUSER: 'b' })).to.deep.equal({ connectionString: 'postgres://a@h/t' });
    expect(withUser(null, { PGUSER: 'b' })).to.deep.equal({ user: 'b' });
  });

  it('gives every isolation mode the whole set; schema mode adds its search_path to PGOPTIONS and to a URL with options', () => {
    const url = { connectionString: 'postgres://u@h:1/base_test' };
    expect(databaseSlot(url, 2, 'base_test_bulkhead_w2').env).to.include({ DATABASE_URL: 'postgres://u@h:1/base_test_bulkhead_w2', PGDATABASE: 'base_test_bulkhead_w2', PGHOST: 'h', PGPORT: '1', PGUSER: 'u' });
    expect(sharedSlot(url, 1, 'base_test').env).to.include({ DATABASE_URL: 'postgres://u@h:1/base_test', PGDATABASE: 'base_test' });
    const schema = schemaSlot({ connectionString: 'postgres://u@h:1/base_test?options=-c%20statement_timeout%3D5s' }, 3, 'base_test');
    expect(schema.env['PGOPTIONS']).to.match(/-c search_path=bulkhead_w3,public$/);
    expect(new URL(schema.env['DATABASE_URL'] ?? '').searchParams.get('options')).to.equal('-c statement_timeout=5s -c search_path=bulkhead_w3,public');
    expect(schema.env).to.include({ PGDATABASE: 'base_test', PGUSER: 'u' });
  });
});
