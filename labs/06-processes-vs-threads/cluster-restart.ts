/**
 * node:cluster in brief: a primary process forks worker processes that all accept connections on one port.
 * Here the primary is also a supervisor: when a worker dies, it forks a replacement. The lab kills one of two
 * workers with SIGKILL and shows the port still answering, from the survivor, then from both again.
 *
 *   npx tsx labs/06-processes-vs-threads/cluster-restart.ts
 */
import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import http from 'node:http';

function get(port: number): Promise<string> {
  return new Promise((resolve) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', (error) => resolve(`failed: ${error.message}`));
  });
}

async function askSome(port: number, count: number, label: string): Promise<void> {
  const answers: string[] = [];
  for (let i = 0; i < count; i++) answers.push(await get(port));
  console.log(`primary: ${count} requests ${label}: ${answers.join(', ')}`);
}

async function primary(): Promise<void> {
  cluster.setupPrimary({ args: ['worker'] }); // each worker runs this file again (with tsx: execArgv is copied)
  let restarting = true;
  cluster.on('exit', (worker: Worker, code: number | null, signal: string | null) => {
    console.log(`primary: worker pid ${worker.process.pid} died (${signal ?? `code ${code}`})`);
    if (restarting) {
      const replacement = cluster.fork();
      console.log(`primary: forked a replacement, pid ${replacement.process.pid}`);
    }
  });

  const workers = [cluster.fork(), cluster.fork()];
  const addresses = await Promise.all(workers.map((worker) => once(worker, 'listening')));
  const port = (addresses[0]![0] as { port: number }).port; // listen(0) in every worker: one shared port
  console.log(
    `primary pid ${process.pid}: workers ${workers.map((w) => w.process.pid).join(' and ')} share port ${port}`,
  );
  await askSome(port, 4, 'answered by');

  const victim = workers[0]!;
  const replaced = once(cluster, 'listening'); // the replacement's server is ready
  victim.process.kill('SIGKILL');
  await once(victim, 'exit');
  await askSome(port, 3, 'while one worker is dead, answered by');
  await replaced;
  await askSome(port, 4, 'after the restart, answered by');

  restarting = false;
  const exits = Object.values(cluster.workers ?? {}).map((worker) => once(worker!, 'exit'));
  cluster.disconnect(); // each worker closes its server and exits once its connections are done
  await Promise.all(exits);
  console.log('primary: every worker has exited; done');
}

function worker(): void {
  http.createServer((req, res) => res.end(`pid ${process.pid}`)).listen(0);
}

if (cluster.isPrimary) void primary();
else worker();
