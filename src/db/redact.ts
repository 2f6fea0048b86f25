// Passwords never reach output: anything shaped like one is masked, and so is every password of the target.
import { parse as parseConnectionString } from 'pg-connection-string';
import { targetFromEnv } from '../protocol/target.js';

/** Shorter passwords would mask ordinary words. */
const MIN_SECRET = 4;

/**
 * Masks passwords in text that may reach output or a record. Made per command from the target it connects to
 * (a connection string, a config object) and the environment's PGPASSWORD, and handed to whatever prints or
 * records: beyond anything shaped like a password, the target's own is masked wherever it appears (a bare
 * assertion value, JSON, a URL-encoded URL).
 */
export class Redactor {
  private readonly secrets: readonly string[];

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
    for (const secret of found) {
      if (typeof secret !== 'string' || secret.length < MIN_SECRET) continue;
      secrets.add(secret);
      secrets.add(encodeURIComponent(secret));
    }
    this.secrets = [...secrets];
  }

  /** For what may be printed before a target is open: the target the environment names (DATABASE_URL, PG*). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): Redactor {
    return new Redactor(targetFromEnv(env), env);
  }

  /** The text with anything that looks like a password, and the target's own, masked. */
  redact(text: string): string {
    let out = text.replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@').replace(/(password\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)/gi, '$1***');
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join('***');
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
