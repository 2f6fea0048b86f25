// Passwords never reach output: anything shaped like one is masked, and so is every password this process knows.
import { parse as parseConnectionString } from 'pg-connection-string';

/*
 * The passwords of the targets this process connects to. Beyond anything shaped like a password, these are masked
 * wherever they appear (a bare assertion value, JSON, a URL-encoded URL). Shorter ones would mask ordinary words.
 */
const secrets = new Set<string>();
const MIN_SECRET = 4;

/** Remembers the password of a target (a connection string, a config object, or PGPASSWORD) for redact(). */
export function knowSecrets(target: { connectionString?: string; password?: unknown } | null, env: NodeJS.ProcessEnv = process.env): void {
  const found: unknown[] = [env['PGPASSWORD'], target?.password];
  if (target?.connectionString !== undefined) {
    try {
      found.push(parseConnectionString(target.connectionString).password);
    } catch {
      // An unparsable URL is refused elsewhere; the URL-shaped mask still covers it.
    }
  }
  for (const secret of found) {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET) continue;
    secrets.add(secret);
    secrets.add(encodeURIComponent(secret));
  }
}

/** Masks anything that looks like a password in text that may reach output or a report. */
export function redact(text: string): string {
  let out = text.replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@').replace(/(password\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)/gi, '$1***');
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join('***');
  return out;
}

/** redact() applied to every string inside JSON data (an error's extra properties). */
export function redactData(value: unknown): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map(redactData);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactData(v)]));
  }
  return value;
}
