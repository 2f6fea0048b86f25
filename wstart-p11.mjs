import { Worker } from 'node:worker_threads';
const [n, ...mods] = process.argv.slice(2);
const code = `const mods = ${JSON.stringify(mods)}; for (const m of mods) await import(m);`;
const c = process.cpuUsage(); const t = performance.now();
await Promise.all(Array.from({ length: Number(n) }, () => new Promise((res, rej) => { const w = new Worker(code, { eval: true, type: 'module' }); w.on('error', rej); w.on('exit', res); })));
const d = process.cpuUsage(c);
console.log(`${mods.join('+') || 'empty'} x${n}: cpu/worker ${((d.user + d.system) / 1000 / Number(n)).toFixed(0)} ms`);
