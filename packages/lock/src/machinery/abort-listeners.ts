/**
 * Shared lock machinery: one `abort` listener per AbortSignal, fanned out to
 * every waiting acquire that passed it, so many waiters on one signal do not
 * trip Node's listener-leak warning.
 */
/** The callbacks waiting on one signal, and the one listener the signal has on their behalf. */
interface Fanout {
  readonly callbacks: Set<() => void>;
  readonly dispatch: () => void;
}

/**
 * One `abort` listener per signal, however many calls wait on it. A lock
 * instance's close signal (and a caller's signal passed to many calls) is
 * shared by every waiting call; adding a listener per call makes Node warn of
 * a leak (`MaxListenersExceededWarning`) from the 11th waiter on.
 */
const fanouts = new WeakMap<AbortSignal, Fanout>();

/**
 * Calls `callback` once when `signal` aborts; returns the function that
 * stops waiting (idempotent). The signal holds a listener only while at least
 * one callback waits: the last `stop` removes it.
 */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  let fanout = fanouts.get(signal);
  if (!fanout) {
    const callbacks = new Set<() => void>();
    const dispatch = () => {
      fanouts.delete(signal);
      for (const waiting of [...callbacks]) waiting();
      callbacks.clear();
    };
    fanout = { callbacks, dispatch };
    fanouts.set(signal, fanout);
    signal.addEventListener('abort', dispatch, { once: true });
  }
  const { callbacks, dispatch } = fanout;
  // A distinct entry per call, so one callback function passed twice is still called once per call.
  const entry = () => callback();
  callbacks.add(entry);
  return () => {
    if (!callbacks.delete(entry) || callbacks.size > 0) return;
    signal.removeEventListener('abort', dispatch);
    if (fanouts.get(signal)?.callbacks === callbacks) fanouts.delete(signal);
  };
}
