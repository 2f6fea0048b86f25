import Module from 'node:module';
const orig = Module.prototype._compile;
const files = [];
Module.prototype._compile = function (content, filename) { files.push([filename, content.length]); return orig.call(this, content, filename); };
const c = process.cpuUsage();
for (const m of process.argv.slice(2)) await import(m);
const d = process.cpuUsage(c);
const byPkg = new Map();
for (const [f, n] of files) { const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?:lib\/)?([^/]*)/.exec(f); const k = m ? m[1] + '/' + m[2] : f; const v = byPkg.get(k) ?? [0, 0]; byPkg.set(k, [v[0] + 1, v[1] + n]); }
console.log('cpu', ((d.user + d.system) / 1000).toFixed(0), 'ms; cjs files', files.length, 'bytes', files.reduce((a, [, n]) => a + n, 0));
console.log([...byPkg].sort((a, b) => b[1][1] - a[1][1]).slice(0, 30).map(([k, [n, b]]) => `${k} ${n}f ${(b / 1024).toFixed(0)}k`).join('\n'));
