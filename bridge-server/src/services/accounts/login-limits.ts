import { RateLimiterMemory, type RateLimiterRes } from 'rate-limiter-flexible';
import { BusyError } from '../../errors.js';

/*
 * Failed logins are counted per account name and per client address; past either budget, every
 * attempt (a right password too) is refused with 429 and Retry-After until the window passes.
 * A success clears the account's count for that address's sake: the owner gets back in at once.
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

  /** Throws 429 when this name or address has used up its failures. */
  async check(name: string, address: string): Promise<void> {
    const [a, b] = await Promise.all([this.byAccount.get(name), this.byAddress.get(address)]);
    const blocked = [a, b].filter((r): r is RateLimiterRes => !!r && r.remainingPoints <= 0);
    if (blocked.length === 0) return;
    const wait = Math.max(...blocked.map((r) => Math.ceil(r.msBeforeNext / 1000)), 1);
    throw new BusyError(`too many failed logins: try again in ${wait} s`, 429, wait);
  }

  async failed(name: string, address: string): Promise<void> {
    // consume() rejects with the result once the budget is used up; the next check() answers that.
    await Promise.allSettled([this.byAccount.consume(name), this.byAddress.consume(address)]);
  }

  async succeeded(name: string): Promise<void> {
    await this.byAccount.delete(name);
  }
}
