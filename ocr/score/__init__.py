"""Accuracy against ground truth: per line, region kind, page, reel and run; legacy comparison; reports.

Definitions (also written into every report):

- Both sides pass the same normalisation profile (``strict`` by default: NFC, BOM
  removed, whitespace runs collapsed); characters are extended grapheme clusters.
- ``CER`` is page level in the reading order each side gives: the lines joined
  by a space, edit distance / reference length (as dinglehopper does).
- ``CER order-free`` first matches hypothesis lines to reference lines (greedy, by
  normalised edit distance below 0.8, one to one), then adds the edits of matched pairs, the
  length of unmatched reference lines (deletions) and of unmatched hypothesis
  lines (insertions): marginalia read in another order cost nothing extra.
- Per region kind (typewritten / handwritten / stamp) the order-free counts of the
  reference lines of that kind, plus unmatched hypothesis lines of that kind
  (hypothesis lines of unknown kind count in the page totals only).
- ``ALL`` rows are micro averages (total edits / total reference length); macro
  averages (mean of page rates, pages with an empty reference left out) stand beside.
- An empty reference gives no rate ("empty ref"), never NaN or infinity.
"""
