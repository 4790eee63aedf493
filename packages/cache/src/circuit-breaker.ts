/**
 * Skips Redis after `failures` errors in a row, for `cooldownMs`; then lets
 * one call through (half-open): success closes it, failure opens it again.
 * While open, calls fail fast instead of each waiting for a timeout.
 */
export class CircuitBreaker {
  private consecutive = 0;
  private openUntil = 0;
  private probing = false;

  constructor(
    private readonly failures: number,
    private readonly cooldownMs: number,
    private readonly onChange: (state: 'open' | 'closed') => void,
  ) {}

  /** Whether a call may go to Redis now. */
  allows(): boolean {
    if (this.openUntil === 0) return true;
    if (performance.now() < this.openUntil || this.probing) return false;
    this.probing = true;
    return true;
  }

  success(): void {
    this.consecutive = 0;
    this.probing = false;
    if (this.openUntil !== 0) {
      this.openUntil = 0;
      this.onChange('closed');
    }
  }

  failure(): void {
    this.consecutive++;
    const wasOpen = this.openUntil !== 0;
    if (this.probing || this.consecutive >= this.failures) {
      this.probing = false;
      this.openUntil = performance.now() + this.cooldownMs;
      if (!wasOpen) this.onChange('open');
    }
  }
}
