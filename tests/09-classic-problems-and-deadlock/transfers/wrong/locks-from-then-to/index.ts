/**
 * Exercise 09-classic-problems-and-deadlock/transfers — chapter: chapters/09-classic-problems-and-deadlock.md#exercise-transfers
 *
 * Move money between bank accounts from many threads at once without ever deadlocking. Each account has its own
 * lock; a transfer needs two of them. If one thread locks account 1 and then waits for account 2 while another
 * thread has locked account 2 and waits for account 1, both wait for ever: a deadlock. You write `transfer`;
 * the `Bank` (locks and balances, over shared memory) is given to you — in the tests, the test provides it.
 *
 * KNOWN-WRONG VARIANT: locks `from` and then `to`, an order that depends on the direction of the transfer: transfer(1→2) and transfer(2→1) at the same moment each take their first lock and wait for ever for the other's.
 */

/**
 * What `transfer` works with: one lock and one balance per account, numbered 0, 1, 2, …. Every method may be
 * called from any thread; each thread calls them through its own `Bank` object over the same shared memory.
 */
export interface Bank {
  /** Blocks until this thread holds `account`'s lock. Not re-entrant: locking an account you hold never returns. */
  lock(account: number): void;
  /** Takes `account`'s lock and returns true if it is free; returns false at once (taking nothing) if it is held. */
  tryLock(account: number): boolean;
  /** Releases `account`'s lock, which this thread must hold. */
  unlock(account: number): void;
  /** The balance of `account` (an integer, never negative). Only while this thread holds `account`'s lock. */
  balance(account: number): number;
  /** Sets the balance of `account`. Only while this thread holds `account`'s lock. */
  setBalance(account: number, value: number): void;
}

/**
 * Moves `amount` from account `from` to account `to`, atomically with respect to every other transfer.
 *
 * - Hold the locks of BOTH accounts from before the first `balance` call until after the last `setBalance`:
 *   never read or write a balance without holding both locks (a check made before locking may be stale by the
 *   time you act on it).
 * - If `from` holds less than `amount`, return `false` and change nothing; otherwise subtract `amount` from
 *   `from`, add it to `to`, and return `true`. Balances never go negative, and money is neither made nor lost.
 * - Release every lock you took before returning, on every path (also when returning `false`).
 * - Never deadlock, whatever other threads run at the same time (for example `transfer(bank, 2, 1, x)` while
 *   this thread runs `transfer(bank, 1, 2, y)`): take the two locks in one global order that does not depend on
 *   the direction of the transfer (for example the lower account number first), or take the second with
 *   `tryLock` and, if that fails, release the first, back off, and start over.
 * - `from === to` is allowed: lock that account once (locks are not re-entrant), move nothing, and return
 *   whether it holds at least `amount`.
 *
 * @param bank the accounts, their locks and balances
 * @param from the account the money leaves
 * @param to the account the money goes to
 * @param amount a positive integer
 * @returns `true` if the money moved (or, when `from === to`, could have), `false` if `from` held too little
 */
export function transfer(bank: Bank, from: number, to: number, amount: number): boolean {
  bank.lock(from);
  try {
    if (from === to) return bank.balance(from) >= amount; // one account: lock it once, move nothing
    bank.lock(to);
    try {
      const available = bank.balance(from);
      if (available < amount) return false;
      bank.setBalance(from, available - amount);
      bank.setBalance(to, bank.balance(to) + amount);
      return true;
    } finally {
      bank.unlock(to);
    }
  } finally {
    bank.unlock(from);
  }
}
