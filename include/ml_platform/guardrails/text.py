"""Text views that undo the obfuscations attackers use, with a map back to the original characters.

Zero-width and other invisible format characters are dropped, compatibility forms (full-width letters,
ligatures) are unified by NFKC, and letters spelled out one by one ("i g n o r e", "i.g.n.o.r.e") are
joined. The folded view also maps every character to ASCII with text-unidecode, which transliterates and drops
accents, so one Latin vocabulary serves "ignora" and "ignorá". Look-alike letters are first mapped to the
ASCII letter they imitate from Unicode's confusables data (shipped by confusable-homoglyphs): transliteration
alone would read Cyrillic "рrеvіоus" as "rrevious". Non-Latin languages are matched on the unfolded view.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources

from text_unidecode import unidecode

# Letters (not digits: dates and versions stay) standing alone, at least four in a row, separated by one and
# the same space, dot, dash, underscore or asterisk: "i.g.n.o.r.e p.r.e.v.i.o.u.s" is two words, not one.
_SPELLED_OUT = re.compile(r"(?<!\w)[^\W\d_]([ .\-_*])(?:[^\W\d_]\1){2,}[^\W\d_](?!\w)")


@dataclass(frozen=True)
class View:
    text: str
    origin: tuple[int, ...]  # origin[i]: index in the original text of the view's character i

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original text's span behind the view's span [start, end)."""
        if not self.origin:
            return 0, 0
        return self.origin[min(start, len(self.origin) - 1)], self.origin[max(start, end - 1)] + 1


@functools.cache
def _lookalikes() -> dict[str, str]:
    """Non-ASCII characters that look like one ASCII letter or digit: Cyrillic "р" -> "p", Greek "ο" -> "o"."""
    data = json.loads(resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
    table = {}
    for char, glyphs in data.items():
        ascii_glyphs = [g["c"] for g in glyphs if len(g["c"]) == 1 and g["c"].isascii() and g["c"].isalnum()]
        if char.isascii() or not ascii_glyphs:
            continue
        glyph = ascii_glyphs[0]
        # The data's skeleton for every I-shape is "l"; a capital look-alike of "I" stands for "I".
        table[char] = "I" if glyph == "l" and char.isupper() else glyph
    return table


def _ascii(char: str) -> str:
    return _lookalikes().get(char) or unidecode(char)


def _visible(text: str, fold: bool) -> tuple[list[str], list[int]]:
    chars, origin = [], []
    for i, char in enumerate(text):
        if unicodedata.category(char) == "Cf":  # zero-width spaces and joiners, soft hyphens, bidi marks
            continue
        normal = unicodedata.normalize("NFKC", char)
        if fold and not normal.isascii():
            normal = "".join(_ascii(c) for c in normal)
        for piece in normal:
            chars.append(piece)
            origin.append(i)
    return chars, origin


def _join_spelled_out(chars: list[str], origin: list[int]) -> tuple[list[str], list[int]]:
    text = "".join(chars)
    keep = [True] * len(chars)
    for match in _SPELLED_OUT.finditer(text):
        # Only single characters separated by single separators: every second character is a separator.
        for k in range(match.start() + 1, match.end(), 2):
            keep[k] = False
    return [c for c, k in zip(chars, keep, strict=True) if k], [o for o, k in zip(origin, keep, strict=True) if k]


def view(text: str, *, fold: bool) -> View:
    """The text with invisible characters dropped and compatibility forms unified; folded to ASCII if `fold`."""
    chars, origin = _visible(text, fold)
    return View("".join(chars), tuple(origin))


_LEET = str.maketrans("013457@$", "oieastas")
_LEET_TOKEN = re.compile(r"[\w@$]*[a-zA-Z][\w@$]*")


def deleeted(base: View) -> View:
    """`base` with digits and symbols inside words read as the letters they stand for ("1gn0r3" -> "ignore").
    Same length, so the offsets stay; words without a letter (prices, dates) are left alone."""
    text = _LEET_TOKEN.sub(lambda m: m.group().translate(_LEET), base.text)
    return View(text, base.origin)


def joined(base: View) -> View:
    """`base` with letters spelled out one by one joined into words ("i g n o r e" -> "ignore")."""
    chars, origin = _join_spelled_out(list(base.text), list(base.origin))
    return View("".join(chars), tuple(origin))
