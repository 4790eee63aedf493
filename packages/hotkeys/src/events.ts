/** Telemetry events of a `HotKeyDetector`. */
export type HotKeyEvents = {
  /** A key became hot: its estimated reads in the last window reached the threshold. */
  'hot-key': { key: string; estimate: number };
  /** A hot key dropped out: its estimate fell below the threshold, or a hotter key took its place in the top K. */
  cooled: { key: string; estimate: number };
};
