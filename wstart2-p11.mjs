import { Worker } from 'node:worker_threads';
const [n, kind, target] = process.argv.slice(2);
const code = kind === 'import' ? `import(${JSON.stringify(target)})` : kind === 'none' ? `0` : `require('node:module').createRequire(${JSON.stringify(import.meta.url)})(${JSON.stringify(target)})`;
const c = process.cpuUsage();
await Promise.all(Array.from({ length: Number(n) }, () => new Promise((res, rej) => { const w = new Worker(code, { eval: true }); w.on('error', rej); w.on('exit', res); })));
const d = process.cpuUsage(c);
console.log(`${kind} ${target ?? ''} x${n}: cpu/worker ${((d.user + d.system) / 1000 / Number(n)).toFixed(0)} ms`);
