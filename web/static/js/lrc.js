// Synced lyrics come parsed from the server (GET /v1/tracks/{id}/lyrics: lines with the LRC offset
// applied); this finds the line being sung.

/** Index of the line sung at `t` seconds (the last line starting at or before it), -1 before the first. */
export function lineAt(lines, t) {
  let lo = 0;
  let hi = lines.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (lines[mid].time <= t + 0.05) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}
