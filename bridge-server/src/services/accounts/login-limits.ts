import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { BusyError } from '../../errors.js';

/*
 * Logins are counted per account name and per client address before the password is checked (so
 * that parallel guesses cannot all pass while the first is still being hashed); a success gives the
 * points back. Past either budget every attempt, a right password too, is refused with 429 and
 * Retry-After until the window passes.
 */

export interface LoginLimitOptions {
  /** Failed attempts allowed per account name in the window. */
  perAccount: number;
  /** Failed attempts allowed per client address in the window (a lab behind one NAT shares it). */
  perAddress: number;
  windowS: number;
}

export const LOGIN_LIMITS: LoginLimitOptions = { perAccount: 10, perAddress: 50, windowS: 15 * 60 };

export class LoginLimiter {
  private readonly byAccount: RateLimiterMemory;
  private readonly byAddress: RateLimiterMemory;

  constructor(o: LoginLimitOptions = LOGIN_LIMITS) {
    this.byAccount = new RateLimiterMemory({ points: o.perAccount, duration: o.windowS, keyPrefix: 'account' });
    this.byAddress = new RateLimiterMemory({ points: o.perAddress, duration: o.windowS, keyPrefix: 'address' });
  }

  /** Takes one attempt from both budgets, or throws 429 when either is used up. */
  async attempt(name: string, address: string): Promise<void> {
    const taken = await Promise.allSettled([this.byAccount.consume(name), this.byAddress.consume(address)]);
    const refused = taken.filter((t): t is PromiseRejectedResult => t.status === 'rejected').map((t) => t.reason);
    if (refused.length === 0) return;
    const waits = refused.map((r) => (r instanceof RateLimiterRes ? Math.ceil(r.msBeforeNext / 1000) : 1));
    const wait = Math.max(...waits, 1);
    throw new BusyError(`too many failed logins: try again in ${wait} s`, 429, wait);
  }

  /** A right password: the attempt is given back (the account's count starts again). */
  async succeeded(name: string, address: string): Promise<void> {
    await Promise.allSettled([this.byAccount.delete(name), this.byAddress.reward(address, 1)]);
  }
}
