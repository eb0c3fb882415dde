/**
 * Races without threads. One thread, one event loop, and still lost updates: a read-modify-write with an
 * `await` between the read and the write lets another request run in the gap. This lab shows it on a tiny
 * in-memory "database" (every time, not sometimes), on a real HTTP server whose balance lives in a file, and
 * then the fix: an async mutex around the read-modify-write.
 *
 *   npx tsx labs/09-classic-problems-and-deadlock/await-race.ts
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A stand-in for a database: every call is asynchronous, as a query over the network would be. */
class Db {
  private balance = 0;
  async get(): Promise<number> {
    await new Promise((resolve) => setImmediate(resolve)); // the query's round trip
    return this.balance;
  }
  async set(value: number): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.balance = value;
  }
  peek(): number {
    return this.balance;
  }
}

/** One lock for async code: lock() resolves with a release function once every earlier holder has released. */
class AsyncMutex {
  private tail: Promise<void> = Promise.resolve();
  lock(): Promise<() => void> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const acquired = this.tail.then(() => release);
    this.tail = this.tail.then(() => released); // the next caller waits for this one's release
    return acquired;
  }
}

async function deposit(db: Db, amount: number): Promise<void> {
  const balance = await db.get(); // read ...
  await db.set(balance + amount); // ... and write back what we read, plus ours
}

async function withdraw(db: Db, amount: number): Promise<boolean> {
  const balance = await db.get(); // check ...
  if (balance < amount) return false;
  await db.set(balance - amount); // ... then act, on what we checked before the await
  return true;
}

async function trials(n: number, run: () => Promise<boolean>): Promise<number> {
  let bad = 0;
  for (let i = 0; i < n; i++) if (!(await run())) bad++;
  return bad;
}

async function main(): Promise<void> {
  const N = 100;
  console.log('1. two deposits of 50 at the same time, balance starts at 100');
  let lastBalance = 0;
  const lost = await trials(N, async () => {
    const db = new Db();
    await db.set(100);
    await Promise.all([deposit(db, 50), deposit(db, 50)]);
    lastBalance = db.peek();
    return lastBalance === 200;
  });
  console.log(`   an update was lost in ${lost} of ${N} trials (the last one ended at ${lastBalance}, not 200)`);

  console.log('2. two withdrawals of 80 at the same time, balance starts at 100');
  let paid = 0;
  const overdrawn = await trials(N, async () => {
    const db = new Db();
    await db.set(100);
    const ok = await Promise.all([withdraw(db, 80), withdraw(db, 80)]);
    paid = ok.filter(Boolean).length * 80;
    lastBalance = db.peek();
    return paid <= 100;
  });
  console.log(
    `   both passed the check in ${overdrawn} of ${N} trials: paid out ${paid} from 100, balance left ${lastBalance}`,
  );

  console.log('3. the same deposits with no await between the read and the write');
  const syncLost = await trials(N, async () => {
    let balance = 100;
    const depositNow = async (amount: number): Promise<void> => {
      await new Promise((resolve) => setImmediate(resolve)); // awaits before the read-modify-write are harmless
      balance = balance + amount; // read, add, write: one synchronous step, nothing can run in between
    };
    await Promise.all([depositNow(50), depositNow(50)]);
    return balance === 200;
  });
  console.log(`   an update was lost in ${syncLost} of ${N} trials`);

  console.log('4. an HTTP server that keeps the balance in a file; two POST /deposit at the same time');
  const dir = mkdtempSync(path.join(tmpdir(), 'await-race-'));
  const file = path.join(dir, 'balance.json');
  const mutex = new AsyncMutex();
  let useMutex = false;
  const server = http.createServer(async (req, res) => {
    const release = useMutex ? await mutex.lock() : () => {};
    try {
      const { balance } = JSON.parse(await readFile(file, 'utf8')) as { balance: number };
      await writeFile(file, JSON.stringify({ balance: balance + 50 }));
    } finally {
      release();
    }
    res.end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/deposit`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const post = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = http.request(url, { method: 'POST', agent }, (res) => res.resume().on('end', resolve));
      req.on('error', reject).end();
    });
  const httpTrial = async (): Promise<boolean> => {
    await writeFile(file, JSON.stringify({ balance: 100 }));
    await Promise.all([post(), post()]);
    return (JSON.parse(await readFile(file, 'utf8')) as { balance: number }).balance === 200;
  };
  const H = 50;
  console.log(`   without a lock: an update was lost in ${await trials(H, httpTrial)} of ${H} trials`);
  useMutex = true;
  console.log(`   with an async mutex around read + write: lost in ${await trials(H, httpTrial)} of ${H} trials`);
  agent.destroy();
  server.close();
  rmSync(dir, { recursive: true, force: true });

  console.log('5. parts 1 and 2 again, each read-modify-write inside the async mutex');
  const locked = async <T>(m: AsyncMutex, body: () => Promise<T>): Promise<T> => {
    const release = await m.lock();
    try {
      return await body();
    } finally {
      release();
    }
  };
  const lostLocked = await trials(N, async () => {
    const db = new Db();
    const m = new AsyncMutex();
    await db.set(100);
    await Promise.all([locked(m, () => deposit(db, 50)), locked(m, () => deposit(db, 50))]);
    return db.peek() === 200;
  });
  const overdrawnLocked = await trials(N, async () => {
    const db = new Db();
    const m = new AsyncMutex();
    await db.set(100);
    const ok = await Promise.all([locked(m, () => withdraw(db, 80)), locked(m, () => withdraw(db, 80))]);
    return ok.filter(Boolean).length === 1 && db.peek() === 20;
  });
  console.log(`   deposits: an update was lost in ${lostLocked} of ${N} trials`);
  console.log(`   withdrawals: both passed the check in ${overdrawnLocked} of ${N} trials (one is refused)`);

  const m = new AsyncMutex();
  const ROUNDS = 100_000;
  const start = performance.now();
  for (let i = 0; i < ROUNDS; i++) (await m.lock())();
  const us = ((performance.now() - start) * 1000) / ROUNDS;
  console.log(`   an uncontended lock + release costs about ${us.toFixed(2)} µs`);
}

void main();
