"""Themes in the free-text comments: scikit-learn's TF-IDF and NMF (the ``report`` extra).

Each comment goes to the theme it weighs most in (NMF's document-topic weights); a theme's
key phrases are its heaviest terms (words and two-word phrases). Whether a theme is a pain
or a success point is decided by who carries it: more bad scores (detractors, CSAT 1-2...)
than good ones makes a pain point; see ``_scales.py`` for the scores. Comments with no score
(``text`` feedback) count towards themes but towards neither side.
"""

from __future__ import annotations

import importlib.util
import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from ._model import UNROUTED, Note, Theme

__all__ = ["MIN_COMMENTS", "find_themes"]

MIN_COMMENTS = 3
MAX_THEMES = 8
MISSING = (
    "themes need scikit-learn: pip install 'cs-sdk[report]' (every other figure is computed "
    "without it)"
)


def find_themes(rows: Sequence[Sequence[Any]]) -> tuple[list[Theme], Note | None]:
    """``rows``: (event id, cohort, kind, score, sentiment, 0-100 score, area, team, comment),
    as ``Queries.comments`` returns them."""
    if len(rows) < MIN_COMMENTS:
        return [], Note("themes", f"{len(rows)} comment(s): themes need at least {MIN_COMMENTS}")
    if importlib.util.find_spec("sklearn") is None:
        return [], Note("themes", MISSING)
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [str(row[8]) for row in rows]
    vectorizer = TfidfVectorizer(
        stop_words="english",
        ngram_range=(1, 2),
        min_df=2 if len(texts) >= 20 else 1,
        max_features=5000,
        sublinear_tf=True,
    )
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # nothing but stop words
        return [], Note("themes", "the comments hold no words to group by")
    terms = vectorizer.get_feature_names_out()
    k = max(1, min(MAX_THEMES, round(math.sqrt(len(texts) / 2)), len(terms) - 1))
    model = NMF(n_components=k, init="nndsvda", random_state=0, max_iter=500)
    weights = model.fit_transform(matrix)
    themes: list[Theme] = []
    best = weights.argmax(axis=1)
    for topic in range(k):
        members = [i for i in range(len(texts)) if best[i] == topic and weights[i, topic] > 0]
        if not members:
            continue
        order = model.components_[topic].argsort()[::-1]
        phrases = [str(terms[j]) for j in order[:5] if model.components_[topic, j] > 0]
        scored = [float(rows[i][5]) for i in members if rows[i][5] is not None]
        examples: list[str] = []
        for i in sorted(members, key=lambda i: -weights[i, topic]):
            if texts[i] not in examples:
                examples.append(texts[i])
            if len(examples) == 3:
                break
        teams = Counter(str(rows[i][7] or "") or UNROUTED for i in members)
        themes.append(
            Theme(
                label=" / ".join(phrases[:2]) or f"theme {topic + 1}",
                phrases=phrases,
                count=len(members),
                mean_score=sum(scored) / len(scored) if scored else None,
                bad=sum(1 for i in members if int(rows[i][4]) < 0),
                good=sum(1 for i in members if int(rows[i][4]) > 0),
                examples=examples,
                team=teams.most_common(1)[0][0],
            )
        )
    themes.sort(key=lambda t: -t.count)
    return themes, None
