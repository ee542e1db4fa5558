"""Full-text search over the library, backed by tantivy.

This is the only module that imports ``tantivy``: everything else talks to :class:`SearchIndex`
with plain :class:`SearchDoc` values, so the engine can be swapped without touching callers.

Text normalisation happens here in Python rather than in tantivy's analyzers, and the same
function is used for documents and for queries.  That way the terms we build queries from are
exactly the terms in the index (tantivy-py's query parser is unreliable, so we build
``tantivy.Query`` objects directly and must produce the indexed tokens ourselves).
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
import shutil
import threading
import unicodedata
from collections.abc import Container, Iterable
from pathlib import Path
from typing import Literal

import msgspec
import tantivy

__all__ = ["KindHits", "SearchDoc", "SearchIndex", "normalise_words"]

Kind = Literal["track", "album", "artist", "playlist", "show", "episode"]
KINDS: tuple[str, ...] = ("track", "album", "artist", "playlist", "show", "episode")

# Bump when the schema or tokenisation changes: a mismatch makes `open` start empty and ask for a rebuild.
SCHEMA_VERSION = 2
ANALYZER = "musicd_words"
CURRENT_FILE = "CURRENT"

# Field -> weight.  The title dominates so "Home" the song beats a song by an artist called Home.
FIELD_WEIGHTS: dict[str, float] = {
    "name": 3.0,
    "artists": 2.0,
    "album": 1.5,
    "album_artist": 1.0,
    "genres": 0.5,
    "lyrics": 0.3,
}
# Prefix and typo matching walk a field's whole term dictionary; lyrics have the largest one and a
# half-typed or misspelt lyric word is rarely what someone searches for (measured: 25 % of query time).
PREFIX_FIELDS = frozenset({"name", "artists", "album", "album_artist", "genres"})
FUZZY_FIELDS = frozenset({"name", "artists", "album", "album_artist"})
# The first word of a name, indexed apart: a name that starts with what was typed ranks above one
# with the typed word further in ("Sta" shows "Static Restless" before "Golden Star").
START_FIELD = "name_start"
START_BOOST = 2.0
EXACT_BOOST = 4.0
PREFIX_BOOST = 2.0
FUZZY_BOOST = 1.0

MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 20
# Terms longer than this are noise (base64 blobs, pasted URLs) and only bloat the term dictionary.
MAX_TOKEN_CHARS = 64
# Fetch more than asked so the popularity re-ranking can promote hits from just below the cut.
OVERFETCH = 3
POPULARITY_WEIGHT = 0.05

# Indexing memory of a writer before it writes a segment (tantivy's floor is 15 MB). Measured on the first
# scan of 100k tracks: 20 MB against 50 MB, the same CPU and 14 MiB less at the peak.
WRITER_HEAP = 20_000_000

_SPLIT_RE = re.compile(r"[^\w]+|_+")


_CJK_RANGES = (
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uac00-\ud7af"  # Hangul syllables
    "\u1100-\u11ff"  # Hangul jamo
    "\u3130-\u318f"  # Hangul compatibility jamo
    "\U00020000-\U0002ffff"  # CJK extensions B+
)
# Runs of characters of scripts written without spaces between words, and runs of anything else.
_CJK_RUN_RE = re.compile(f"[{_CJK_RANGES}]+|[^{_CJK_RANGES}]+")
_CJK_RE = re.compile(f"[{_CJK_RANGES}]")


def _is_cjk(ch: str) -> bool:
    """Whether ``ch`` belongs to a script written without spaces between words."""
    return _CJK_RE.match(ch) is not None


@functools.lru_cache(maxsize=4096)
def _fold(text: str) -> str:
    """Casefold and strip accents, so "Été" and "ete" are the same word.

    Cached, and ASCII takes a shortcut: names repeat (an album's name and artist on every one of its
    tracks), and indexing 100k tracks spent most of its time here, a character at a time.
    """
    if text.isascii():
        return text.lower()  # casefold and lower agree on ASCII, and NFKD changes nothing there
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # Recompose so Hangul syllables (decomposed into jamo by NFKD) become whole syllables again.
    return unicodedata.normalize("NFC", stripped)


def _split_runs(word: str) -> list[tuple[str, bool]]:
    """Split a word into runs of CJK and non-CJK characters, flagged with whether they are CJK."""
    if word.isascii():
        return [(word, False)]
    return [(run, _CJK_RE.match(run) is not None) for run in _CJK_RUN_RE.findall(word)]


def normalise_words(text: str) -> list[str]:
    """Fold ``text`` and split it on anything that is not a letter or digit.

    CJK runs are kept whole here; the index and the query builder each decide how to cut them.
    """
    return [w for w in _SPLIT_RE.split(_fold(text)) if w]


@functools.lru_cache(maxsize=4096)
def _index_tokens_cached(text: str) -> tuple[str, ...]:
    tokens: list[str] = []
    for chunk in _fold(text).split():
        words = [w for w in _SPLIT_RE.split(chunk) if w]
        if len(words) > 1:
            tokens.append("".join(words))
        for word in words:
            for run, cjk in _split_runs(word):
                if not cjk:
                    tokens.append(run)
                    continue
                tokens.extend(run)
                tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tuple(t for t in tokens if len(t) <= MAX_TOKEN_CHARS)


def _index_tokens(text: str) -> list[str]:
    """Tokens stored in the index for one field value.

    Besides the plain words we add, for every whitespace-separated chunk that punctuation split
    into several words, the words glued together: "R.E.M." gives "r", "e", "m" and "rem", so both
    "rem" and "r.e.m." find it, and "AC/DC" is found by "acdc" as well as "ac dc".
    CJK runs are indexed as single characters plus bigrams, since they have no word spaces.
    Short values (names, which repeat) are cached; lyrics are not worth the memory.
    """
    if len(text) > 200:
        return list(_index_tokens_cached.__wrapped__(text))
    return list(_index_tokens_cached(text))


def _query_words(text: str) -> list[tuple[str, bool]]:
    """The words of a user query, each flagged with whether fuzzy/prefix matching makes sense.

    CJK runs become bigrams (or the lone character), which are indexed verbatim; edit distance
    on them would match unrelated words, so they only get exact matching.
    """
    words: list[tuple[str, bool]] = []
    for word in normalise_words(text[:MAX_QUERY_CHARS]):
        for run, cjk in _split_runs(word):
            if not cjk:
                words.append((run[:MAX_TOKEN_CHARS], True))
            elif len(run) == 1:
                words.append((run, False))
            else:
                words.extend((run[i : i + 2], False) for i in range(len(run) - 1))
    return words[:MAX_QUERY_WORDS]


def _fuzzy_distance(word: str) -> int:
    """Edit distance allowed for a typo in ``word``: none for short words, where it matches junk."""
    if len(word) >= 8:
        return 2
    if len(word) >= 4:
        return 1
    return 0


def _typo_words(words: list[tuple[str, bool]]) -> list[tuple[int, str]]:
    """The query words long enough for typo matching, with their positions."""
    return [(i, word) for i, (word, fuzzy_ok) in enumerate(words) if fuzzy_ok and _fuzzy_distance(word)]


class SearchDoc(msgspec.Struct, frozen=True):
    """One searchable entity, as handed to the index by the library."""

    kind: Kind
    id: str
    name: str
    artists: list[str] = []
    album: str | None = None
    album_artist: str | None = None
    genres: list[str] = []
    year: int | None = None
    lyrics: str | None = None
    popularity: int = 0
    owner_id: str | None = None
    public: bool = True


class KindHits(msgspec.Struct, frozen=True):
    """The hits of one kind: the requested page of ``(id, score)`` and how many matched in all."""

    hits: list[tuple[str, float]]
    total: int


def _build_schema() -> tantivy.Schema:
    """Schema shared by every generation of the index."""
    sb = tantivy.SchemaBuilder()
    # "raw" keeps keys as one term, so deleting and filtering by them is exact.
    sb.add_text_field("key", stored=True, tokenizer_name="raw")
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    sb.add_text_field("kind", stored=True, tokenizer_name="raw")
    sb.add_text_field("visibility", tokenizer_name="raw")
    for field in (*FIELD_WEIGHTS, START_FIELD):
        sb.add_text_field(field, tokenizer_name=ANALYZER)
    sb.add_integer_field("year", stored=True, indexed=True, fast=True)
    sb.add_integer_field("popularity", stored=True, fast=True)
    return sb.build()


def _analyzer() -> tantivy.TextAnalyzer:
    """Analyzer for text fields.

    Tokens arrive already folded and space-separated from `_index_tokens`; lowercase and
    ascii_fold are kept as a safety net for anything written to the index by other means.
    """
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace())
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def _open_tantivy(path: Path, schema: tantivy.Schema) -> tantivy.Index:
    """Open or create a tantivy index at ``path`` with our analyzer registered.

    Custom tokenizers are not persisted with the index, so this must run on every open.
    """
    path.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(schema, path=str(path), reuse=True)
    index.register_tokenizer(ANALYZER, _analyzer())
    return index


def _visibility(doc: SearchDoc) -> str:
    """The visibility term: public, or private to one owner."""
    if doc.kind != "playlist" or doc.public or doc.owner_id is None:
        return "public"
    return f"owner:{doc.owner_id}"


def _to_document(doc: SearchDoc, schema: tantivy.Schema) -> tantivy.Document:
    """Convert a SearchDoc into a tantivy Document."""
    values: dict[str, object] = {
        "key": f"{doc.kind}:{doc.id}",
        "id": doc.id,
        "kind": doc.kind,
        "visibility": _visibility(doc),
        "name": " ".join(_index_tokens(doc.name)),
        START_FIELD: " ".join(_index_tokens(doc.name.split(maxsplit=1)[0] if doc.name.strip() else "")),
        "artists": " ".join(t for a in doc.artists for t in _index_tokens(a)),
        "album": " ".join(_index_tokens(doc.album or "")),
        "album_artist": " ".join(_index_tokens(doc.album_artist or "")),
        "genres": " ".join(t for g in doc.genres for t in _index_tokens(g)),
        "lyrics": " ".join(_index_tokens(doc.lyrics or "")),
        "popularity": max(0, doc.popularity),
    }
    if doc.year is not None:
        values["year"] = doc.year
    # from_dict converts Python ints using the schema; Document(**values) fails on int fields.
    return tantivy.Document.from_dict(values, schema)


class SearchIndex:
    """An on-disk search index with atomic rebuilds.

    Layout under ``path``: one directory per generation (``gen-<n>``) and a ``CURRENT`` file naming
    the live one.  A rebuild fills a new generation while searches keep using the old one, then
    replaces ``CURRENT`` atomically and swaps the in-memory handle.
    """

    def __init__(self, root: Path, index: tantivy.Index, generation: int, needs_rebuild: bool) -> None:
        """Use :meth:`open` instead; this wires up an already opened tantivy index."""
        self._root = root
        self._schema = _build_schema()
        self._index = index
        self._generation = generation
        self._writer: tantivy.IndexWriter | None = None
        # One writer per tantivy index is allowed; this lock serialises writes and handle swaps.
        self._lock = threading.RLock()
        self.needs_rebuild = needs_rebuild

    @classmethod
    def open(cls, path: Path) -> SearchIndex:
        """Open the index at ``path``, or start an empty one with ``needs_rebuild`` set."""
        path.mkdir(parents=True, exist_ok=True)
        schema = _build_schema()
        generation = cls._read_current(path)
        if generation is not None:
            try:
                index = _open_tantivy(path / f"gen-{generation}", schema)
                # Touch the searcher so a corrupt segment fails here rather than on the first search.
                index.searcher().num_docs  # noqa: B018
                return cls(path, index, generation, needs_rebuild=False)
            except Exception:
                # tantivy raises assorted error types for damaged files; any of them means rebuild.
                pass
        generation = (generation or 0) + 1
        # Whatever is on disk is unusable now; drop it so damaged generations do not pile up.
        for stale in path.glob("gen-*"):
            shutil.rmtree(stale, ignore_errors=True)
        gen_dir = path / f"gen-{generation}"
        index = _open_tantivy(gen_dir, schema)
        cls._write_current(path, generation)
        return cls(path, index, generation, needs_rebuild=True)

    @staticmethod
    def _read_current(root: Path) -> int | None:
        """The live generation number, or None when missing, unreadable or from another schema."""
        try:
            version, generation = (root / CURRENT_FILE).read_text().split()
            if int(version) != SCHEMA_VERSION:
                return None
            return int(generation)
        except (OSError, ValueError):
            return None

    @staticmethod
    def _write_current(root: Path, generation: int) -> None:
        """Point CURRENT at ``generation`` atomically (rename), so a crash leaves the old or new one."""
        tmp = root / f"{CURRENT_FILE}.tmp"
        tmp.write_text(f"{SCHEMA_VERSION} {generation}\n")
        os.replace(tmp, root / CURRENT_FILE)

    def _get_writer(self) -> tantivy.IndexWriter:
        """The writer for the live index, created on first use and kept to hold the lock once."""
        if self._writer is None:
            self._writer = self._index.writer(heap_size=WRITER_HEAP, num_threads=1)
        return self._writer

    def upsert(self, docs: Iterable[SearchDoc]) -> None:
        """Add or replace documents, in one commit."""
        with self._lock:
            self.add(docs)
            self.commit()

    def add(self, docs: Iterable[SearchDoc], *, replace: bool = True) -> None:
        """Add documents (replacing those with the same key unless `replace` is False: the caller knows
        there are none) without committing them: `commit` does, once for many batches."""
        with self._lock:
            writer = self._get_writer()
            for doc in docs:
                if replace:
                    writer.delete_documents_by_term("key", f"{doc.kind}:{doc.id}")
                writer.add_document(_to_document(doc, self._schema))

    def commit(self) -> None:
        """Make what `add` staged searchable."""
        with self._lock:
            self._get_writer().commit()
            self._index.reload()

    def delete(self, ids: Iterable[str]) -> None:
        """Remove every document (of any kind) with one of these ids, in one commit."""
        with self._lock:
            writer = self._get_writer()
            for doc_id in ids:
                writer.delete_documents_by_term("id", doc_id)
            writer.commit()
            self._index.reload()

    def rebuild(self, docs: Iterable[SearchDoc]) -> None:
        """Replace the whole index with ``docs``.

        The new generation is written beside the live one, which keeps serving searches, and
        only swapped in once committed.  The write lock is held throughout, so upserts made during
        a rebuild wait rather than going to the soon-discarded generation.
        """
        with self._lock:
            generation = self._generation + 1
            gen_dir = self._root / f"gen-{generation}"
            shutil.rmtree(gen_dir, ignore_errors=True)
            index = _open_tantivy(gen_dir, self._schema)
            writer = index.writer(heap_size=WRITER_HEAP, num_threads=1)
            for doc in docs:
                writer.add_document(_to_document(doc, self._schema))
            writer.commit()
            writer.wait_merging_threads()
            index.reload()
            self._write_current(self._root, generation)
            old_dir = self._root / f"gen-{self._generation}"
            old_writer, self._writer = self._writer, None
            self._index, self._generation = index, generation
            self.needs_rebuild = False
            if old_writer is not None:
                # Let the old writer finish so its files and lock are released before deletion.
                with contextlib.suppress(Exception):
                    old_writer.wait_merging_threads()
            # Open searchers on the old generation keep their mmaps valid after unlink (POSIX).
            shutil.rmtree(old_dir, ignore_errors=True)

    def close(self) -> None:
        """Release the writer and with it the index lock, so another process may write."""
        with self._lock:
            writer, self._writer = self._writer, None
            if writer is not None:
                with contextlib.suppress(Exception):
                    writer.wait_merging_threads()
                del writer

    def count(self) -> int:
        """Number of documents in the index."""
        return int(self._index.searcher().num_docs)

    def _prefix(self, field: str, word: str) -> tantivy.Query:
        """Terms of `field` that start with `word`. A one-word phrase prefix is a range over the term
        dictionary: the same documents and (constant) scores as a Levenshtein prefix automaton of distance
        0, measured 40 % cheaper on the 100k library."""
        return tantivy.Query.phrase_prefix_query(self._schema, field, [word])

    def _word_query(self, word: str, fuzzy_ok: bool, prefix: bool, typos: bool = True, first: bool = False
                    ) -> tantivy.Query:
        """Match one query word in any field: exact, then prefix, then typo-tolerant (when `typos`);
        the query's `first` word also scores when a name starts with it."""
        schema = self._schema
        distance = _fuzzy_distance(word) if fuzzy_ok and typos else 0
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        if first:
            start = self._prefix(START_FIELD, word) if prefix and fuzzy_ok \
                else tantivy.Query.term_query(schema, START_FIELD, word, index_option="freq")
            clauses.append((tantivy.Occur.Should,
                            tantivy.Query.boost_query(start, START_BOOST * FIELD_WEIGHTS["name"])))
        for field, weight in FIELD_WEIGHTS.items():
            exact = tantivy.Query.term_query(schema, field, word, index_option="freq")
            clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(exact, EXACT_BOOST * weight)))
            if prefix and field in PREFIX_FIELDS:
                clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(self._prefix(field, word),
                                                                                 PREFIX_BOOST * weight)))
            if distance and field in FUZZY_FIELDS:
                # A word being typed may hold a typo too: with `prefix` the typo tolerance applies to the
                # start of longer words ("latern" reaches "lanterns", not only "lantern").
                fuzzy = tantivy.Query.fuzzy_term_query(schema, field, word, distance, True, prefix)
                clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(fuzzy, FUZZY_BOOST * weight)))
        return tantivy.Query.boolean_query(clauses)

    def _text_query(self, words: list[tuple[str, bool]], occur: tantivy.Occur,
                    typos: Container[int] = range(MAX_QUERY_WORDS)) -> tantivy.Query:
        """Combine the per-word queries; the last word may be half typed, so it gets prefix matching. Typo
        matching only for the words at the positions in `typos` (every word by default)."""
        last = len(words) - 1
        return tantivy.Query.boolean_query(
            [
                # Prefix matching on 1-2 letter words mid-query would match most of the index.
                (occur, self._word_query(word, fuzzy_ok, prefix=fuzzy_ok and (i == last or len(word) >= 3),
                                         typos=i in typos, first=i == 0))
                for i, (word, fuzzy_ok) in enumerate(words)
            ]
        )

    @staticmethod
    def _unknown(searcher: tantivy.Searcher, words: list[tuple[int, str]]) -> list[int]:
        """The positions of the words that no document has as a whole word in a searched field."""
        return [i for i, word in words if not any(searcher.doc_freq(field, word) for field in FIELD_WEIGHTS)]

    def _filtered(self, text: tantivy.Query, kind: str, user_id: str | None) -> tantivy.Query:
        """Restrict ``text`` to one kind and to what ``user_id`` may see, without changing scores."""
        filters = [tantivy.Query.term_query(self._schema, "kind", kind)]
        if kind == "playlist":  # only playlists can be private (see `_visibility`)
            # Term queries, not term_set_query: that one cost 0.2 ms per search whatever the index size
            # (measured on the 10k and 100k libraries), more than the text query it filtered.
            visible = ["public"] if user_id is None else ["public", f"owner:{user_id}"]
            filters.append(tantivy.Query.boolean_query(
                [(tantivy.Occur.Should, tantivy.Query.term_query(self._schema, "visibility", v)) for v in visible]))
        clauses = [(tantivy.Occur.Must, text)]
        clauses += [(tantivy.Occur.Must, tantivy.Query.const_score_query(f, 0.0)) for f in filters]
        return tantivy.Query.boolean_query(clauses)

    def search(
        self,
        query: str,
        kinds: set[str] | frozenset[str] = frozenset(KINDS),
        limit: int = 20,
        offset: int = 0,
        user_id: str | None = None,
        fallback: bool = True,
    ) -> dict[str, KindHits]:
        """Search ``query`` and return, per requested kind, a page of ``(id, score)`` and a total.

        Never raises on odd input: whatever cannot be made into words gives empty results. Without
        ``fallback``, a query that no document matches in full finds nothing rather than partial matches.
        """
        wanted = [k for k in KINDS if k in kinds]
        empty = {k: KindHits([], 0) for k in wanted}
        words = _query_words(query or "")
        limit, offset = max(0, limit), max(0, offset)
        if not words or not wanted or limit == 0:
            return empty
        searcher = self._index.searcher()
        # Typo matching is the costly part (it walks the term dictionaries). Whole words and prefixes rank above
        # typo matches anyway, so a kind whose page they already fill needs no typo pass.
        exact = self._text_query(words, tantivy.Occur.Must, typos=())
        results = {k: self._search_kind(searcher, exact, k, limit, offset, user_id) for k in wanted}
        short = [k for k in wanted if results[k].total < offset + limit]
        typos = _typo_words(words)
        if short and typos:
            # A word no document has is the likely typo: only it needs typo matching (each word costs a walk
            # of four term dictionaries). When every word is a known one, the page is topped up with typo
            # matches only for a kind that found nothing at all, and only for a query of one or two such
            # words: several known words that no item has together are not a typo away from one (typo
            # matching them all was most of the slowest searches, 1 ms per kind at 100k tracks).
            unknown = self._unknown(searcher, typos)
            if not unknown:
                short = [k for k in short if results[k].total == 0] if len(typos) <= 2 else []
            if short:
                must = self._text_query(words, tantivy.Occur.Must, typos=unknown or [i for i, _ in typos])
                results.update({k: self._search_kind(searcher, must, k, limit, offset, user_id) for k in short})
        if fallback and all(r.total == 0 for r in results.values()):
            # Nothing has every word: show what has some of them rather than nothing.
            return self.search_partial(query, kinds, limit, offset, user_id)
        return results

    def search_partial(self, query: str, kinds: set[str] | frozenset[str] = frozenset(KINDS), limit: int = 20,
                       offset: int = 0, user_id: str | None = None) -> dict[str, KindHits]:
        """`search`'s fallback alone: what matches some of the words of a query of several words."""
        wanted = [k for k in KINDS if k in kinds]
        words = _query_words(query or "")
        limit, offset = max(0, limit), max(0, offset)
        if len(words) < 2 or limit == 0:
            return {k: KindHits([], 0) for k in wanted}
        searcher = self._index.searcher()
        # Typo matching for the unknown words only, as in `search`: here it costs the most (a query of six
        # words, typo matching every one, took 4.4 ms on 100k tracks; for the one unknown word, 1.9 ms).
        should = self._text_query(words, tantivy.Occur.Should, typos=self._unknown(searcher, _typo_words(words)))
        return {k: self._search_kind(searcher, should, k, limit, offset, user_id) for k in wanted}

    def _search_kind(
        self,
        searcher: tantivy.Searcher,
        text: tantivy.Query,
        kind: str,
        limit: int,
        offset: int,
        user_id: str | None,
    ) -> KindHits:
        """One kind's page, re-ranked with popularity as a gentle tie-break."""
        # Never ask for more hits than there are documents: tantivy sizes its heap by the limit (a limit of
        # 10^12 aborts the process on allocation; past 2^63 it panics).
        fetch = max(1, min((offset + limit) * OVERFETCH, searcher.num_docs))
        result = searcher.search(self._filtered(text, kind, user_id), limit=fetch, count=True)
        hits = result.hits
        # Popularity from its fast field, in one call; stored documents (for the ids) only for the hits that
        # can make the page: those scoring at least what the last of the page scores (ties sort by id).
        popularity = searcher.fast_field_values("popularity", [address for _, address in hits]) if hits else []
        boosted = [score * (1.0 + math.log1p(max(0, pop or 0)) * POPULARITY_WEIGHT)
                   for (score, _), pop in zip(hits, popularity, strict=True)]
        cut = sorted(boosted, reverse=True)[offset + limit - 1] if len(boosted) >= offset + limit else -math.inf
        scored = [(b, str(searcher.doc(address).get_first("id")))
                  for b, (_, address) in zip(boosted, hits, strict=True) if b >= cut]
        scored.sort(key=lambda item: (-item[0], item[1]))
        page = [(doc_id, score) for score, doc_id in scored[offset : offset + limit]]
        return KindHits(page, int(result.count or 0))
