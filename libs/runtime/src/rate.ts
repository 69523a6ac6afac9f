/** Things a second, shared out as they are taken: a token bucket holding one second's burst. */
export class Rate {
  private tokens: number;
  private refilledAt = Date.now();

  constructor(private perSecond: number) {
    this.tokens = perSecond;
  }

  /** Changes the rate from now on (what was taken stays taken). */
  set(perSecond: number): void {
    this.refill();
    this.perSecond = perSecond;
    this.tokens = Math.min(this.tokens, perSecond);
  }

  /** Takes one token; returns how long to wait before using it (0: none). */
  take(): number {
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1_000) / this.perSecond);
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.refilledAt) * this.perSecond) / 1_000);
    this.refilledAt = now;
  }
}
