// Splits a simple-protocol query string into its statements, so --transaction can see a BEGIN or COMMIT that is
// one statement of several ("BEGIN; INSERT ...; COMMIT;"). Quotes, dollar quotes and comments are skipped as
// PostgreSQL's lexer does; anything it cannot follow is left whole rather than split wrongly.

/** The statements of `sql` (each without its semicolon, comments kept), or null when it is a single one. */
export function splitStatements(sql: string): string[] | null {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
    } else if (c === '/' && next === '*') {
      i = skipBlockComment(sql, i);
    } else if (c === "'") {
      // E'...' strings take backslash escapes; standard strings only doubled quotes.
      i = skipQuoted(sql, i, "'", /[eE]/.test(sql[i - 1] ?? '') && !/[\w$]/.test(sql[i - 2] ?? ''));
    } else if (c === '"') {
      i = skipQuoted(sql, i, '"', false);
    } else if (c === '$' && !/[\w$]/.test(sql[i - 1] ?? '')) {
      const tag = /^\$(?:[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/.exec(sql.slice(i));
      if (tag === null) {
        i += 1;
      } else {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end < 0 ? n : end + tag[0].length;
      }
    } else if (c === ';') {
      out.push(sql.slice(start, i));
      start = i + 1;
      i += 1;
    } else {
      i += 1;
    }
  }
  out.push(sql.slice(start));
  const statements = out.filter((s) => !isBlank(s));
  return statements.length > 1 ? statements : null;
}

function skipBlockComment(sql: string, from: number): number {
  // Block comments nest in PostgreSQL.
  let depth = 0;
  let i = from;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth += 1;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else {
      i += 1;
    }
  }
  return sql.length;
}

function skipQuoted(sql: string, from: number, quote: string, backslashes: boolean): number {
  let i = from + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashes && c === '\\') {
      i += 2;
    } else if (c === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i += 1;
    }
  }
  return sql.length;
}

/** Only whitespace and comments. */
function isBlank(statement: string): boolean {
  return statement.replace(/--[^\n]*(\n|$)/g, '').replace(/\/\*[\s\S]*?\*\//g, '').trim() === '';
}
