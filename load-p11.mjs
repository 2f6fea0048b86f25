const mods = process.argv.slice(2);
const out = [];
for (const m of mods) {
  const c = process.cpuUsage(); const t = performance.now();
  await import(m);
  const d = process.cpuUsage(c);
  out.push(`${m}: cpu ${((d.user + d.system) / 1000).toFixed(0)} ms`);
}
console.log(out.join(' | '));
