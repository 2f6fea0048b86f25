// Passwords never reach output: a connection string's password is masked, and the target's own in every form it takes.
import { parse as parseConnectionString } from 'pg-connection-string';
import { targetFromEnv } from '../protocol/target.js';

/** Shorter passwords would mask ordinary words; a shorter prefix of a password is not masked either. */
const MIN_SECRET = 4;

/** What may follow a cut-off text: its end, a line's end, or an ellipsis (chai's "…", the record's "… [n more]"). */
const CUT = /^(?:$|\r?\n|…|\.\.\.)/;

/**
 * Every form a password takes in output: raw; JSON-escaped once and twice (an error message holding JSON, printed
 * inside JSON); as a single-quoted JS string (util.inspect); URL-encoded by encodeURIComponent, by encodeURI and by
 * the WHATWG URL's password setter (which leaves `'`, `%` and more as they are).
 */
function forms(secret: string): string[] {
  const json = (t: string): string => JSON.stringify(t).slice(1, -1);
  const whatwg = (() => {
    const u = new URL('postgres://h');
    u.password = secret;
    return u.password;
  })();
  const quoted = secret.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  return [secret, json(secret), json(json(secret)), quoted, encodeURIComponent(secret), encodeURI(secret), whatwg];
}

/** A run of standard or URL-safe base64 characters, with its padding. */
const BASE64_RUN = /[A-Za-z0-9+/_-]+={0,2}/g;

/**
 * What base64 makes of a password wherever it sits in the encoded text (`user:password` in a Basic auth header, a
 * config's JSON): for each of the three alignments, the characters that the password's bytes alone decide, in the
 * standard and the URL-safe alphabet. A run of base64 characters that holds one of these held the password.
 */
function base64Cores(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const cores: string[] = [];
  for (let align = 0; align < 3; align++) {
    const encoded = Buffer.concat([Buffer.alloc(align), bytes]).toString('base64').replace(/=+$/, '');
    // Character i covers bits [6i, 6i + 6); the password's bits are [8 align, 8 (align + n)).
    const first = Math.ceil((8 * align) / 6);
    const end = Math.floor((8 * (align + bytes.length)) / 6);
    const core = encoded.slice(first, end);
    cores.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return cores;
}

/**
 * Masks passwords in text that may reach output or a record. Made per command from the target it connects to
 * (a connection string, a config object) and the environment's PGPASSWORD, and handed to whatever prints or
 * records (stdout, stderr, the run record, the reporters' documents): beyond a connection string's password, the
 * target's own is masked in every form it takes (see forms()), and so is a prefix of one (at least MIN_SECRET
 * characters) where a text was cut off. Nothing else is masked: a diff's `password: 'x'` of an application's own
 * data is not the database's password.
 */
export class Redactor {
  private readonly secrets: readonly string[];
  private readonly cores: readonly string[];

  constructor(target: { connectionString?: string; password?: unknown } | null, env: NodeJS.ProcessEnv = process.env) {
    const found: unknown[] = [env['PGPASSWORD'], target?.password];
    if (target?.connectionString !== undefined) {
      try {
        found.push(parseConnectionString(target.connectionString).password);
      } catch {
        // An unparsable URL is refused elsewhere; the URL-shaped mask still covers it.
      }
    }
    const secrets = new Set<string>();
    const cores = new Set<string>();
    for (const secret of found) {
      if (typeof secret !== 'string' || secret.length < MIN_SECRET) continue;
      for (const form of forms(secret)) secrets.add(form);
      // Hex, as a Buffer's toString('hex') or a hex dump gives it, either case.
      const hex = Buffer.from(secret, 'utf8').toString('hex');
      secrets.add(hex).add(hex.toUpperCase());
      for (const core of base64Cores(secret)) cores.add(core);
    }
    this.cores = [...cores];
    // Longest first: a form that contains another is masked whole.
    this.secrets = [...secrets].sort((a, b) => b.length - a.length);
  }

  /** For what may be printed before a target is open: the target the environment names (DATABASE_URL, PG*). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): Redactor {
    return new Redactor(targetFromEnv(env), env);
  }

  /** The text with a connection string's password, and the target's own in every form, masked. */
  redact(text: string): string {
    // A URL's password, and a libpq keyword/value string's (`host=x password=y`).
    let out = text.replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@').replace(/(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi, '$1***');
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join('***');
    for (const secret of this.secrets) out = maskCutPrefixes(out, secret);
    // Base64 is masked as the whole run of base64 characters that holds the password: its edges carry bits of it.
    if (this.cores.length > 0) out = out.replace(BASE64_RUN, (run) => (this.cores.some((core) => run.includes(core)) ? '***' : run));
    return out;
  }

  /** redact() applied to every string inside JSON data (an error's extra properties). */
  data(value: unknown): unknown {
    if (typeof value === 'string') return this.redact(value);
    if (Array.isArray(value)) return value.map((v) => this.data(v));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.data(v)]));
    }
    return value;
  }
}

/** Masks each prefix of `secret` (MIN_SECRET characters or more) that ends where the text was cut off. */
function maskCutPrefixes(text: string, secret: string): string {
  if (!text.includes(secret.slice(0, MIN_SECRET))) return text;
  let out = text;
  for (let k = secret.length - 1; k >= MIN_SECRET; k--) {
    const prefix = secret.slice(0, k);
    let at = out.indexOf(prefix);
    while (at >= 0) {
      if (CUT.test(out.slice(at + k, at + k + 3))) {
        out = `${out.slice(0, at)}***${out.slice(at + k)}`;
        at = out.indexOf(prefix, at + 3);
      } else {
        at = out.indexOf(prefix, at + 1);
      }
    }
  }
  return out;
}
