#!/usr/bin/env python3
"""Generates core/tokenizer/unicode_tables.cpp, the Unicode data behind core/tokenizer/unicode.h and
the regex engine, from the reference libraries' observed behaviour:

  * general categories, \\s and \\w: Oniguruma 6.9.10 (Unicode 16.0), the regex engine inside the
    `tokenizers` library, asked code point by code point through tokenizers' Replace(Regex(..));
  * case-insensitive equivalence: what Oniguruma's (?i:x) matches, asked for every cased code point
    (Python's unicodedata 14.0 proposes the candidates; code points new in 15.0-16.0 are added
    from Oniguruma's own category table);
  * normalization: decompositions, combining classes and compositions from unicodedata 14.0,
    restricted to what the `unicode-normalization-alignments` crate (which tokenizers' NFC/NFD/NFKC/NFKD
    use; Unicode 12 era) knows: a mapping or combining class the crate does not apply is dropped.

Run with the venv (it needs `tokenizers`), from the repository root (~20 s):
  ~/.cache/r1kit/venv/bin/python scripts/gen_unicode_tables.py [--out core/tokenizer/unicode_tables.cpp]
Every derived table is cross-checked against the library before anything is written.
"""

import argparse
import sys
import unicodedata

from tokenizers import Regex, normalizers, pre_tokenizers

MAX_CP = 0x110000
CATEGORIES = ("Lu Ll Lt Lm Lo Mn Mc Me Nd Nl No Pc Pd Ps Pe Pi Pf Po "
              "Sm Sc Sk So Zs Zl Zp Cc Cf Cs Co Cn").split()
SPACE_BIT = 0x20
WORD_BIT = 0x40
HANGUL_S, HANGUL_S_COUNT = 0xAC00, 11172


def is_surrogate(cp):
    return 0xD800 <= cp < 0xE000


def all_scalars():
    return [cp for cp in range(MAX_CP) if not is_surrogate(cp)]


def matching_set(text, negated_pattern):
    """Code points of `text` left after Oniguruma deletes every match of `negated_pattern`."""
    kept = normalizers.Replace(Regex(negated_pattern), "").normalize_str(text)
    return {ord(ch) for ch in kept}


def onig_properties():
    text = "".join(chr(cp) for cp in all_scalars())
    category = [None] * MAX_CP
    for idx, name in enumerate(CATEGORIES):
        if name == "Cs":
            continue
        for cp in matching_set(text, r"\P{%s}+" % name):
            assert category[cp] is None, hex(cp)
            category[cp] = idx
    for cp in range(0xD800, 0xE000):
        category[cp] = CATEGORIES.index("Cs")
    assert all(c is not None for c in category)
    # Inside a bracket class (Oniguruma's CR_Word table). The \w escape outside brackets also
    # matches U+00B2 U+00B3 U+00B9 U+00BC-U+00BE (its Latin-1 ctype table): the regex parser adds
    # those, and this script checks that they are the only difference.
    space = matching_set(text, r"[^\s]+")
    word = matching_set(text, r"[^\w]+")
    digit = matching_set(text, r"[^\d]+")
    assert space == matching_set(text, r"\S+") and digit == matching_set(text, r"\D+")
    assert matching_set(text, r"\W+") - word == {0xB2, 0xB3, 0xB9, 0xBC, 0xBD, 0xBE}
    assert not word - matching_set(text, r"\W+")
    nd = CATEGORIES.index("Nd")
    assert digit == {cp for cp in all_scalars() if category[cp] == nd}, "\\d is not \\p{Nd}"
    props = bytearray(MAX_CP)
    for cp in range(MAX_CP):
        props[cp] = category[cp] | (SPACE_BIT if cp in space else 0) | (WORD_BIT if cp in word else 0)
    return props, category


def onig_isolated_matches(pattern, text):
    pieces = pre_tokenizers.Split(Regex(pattern), behavior="removed", invert=True).pre_tokenize_str(text)
    return [piece for piece, _ in pieces]


def fold_candidates(category):
    """Code points that may have case-insensitive partners: cased in unicodedata 14.0, or new in
    Oniguruma's Unicode 16.0 with a category that holds cased characters."""
    cased_cats = {CATEGORIES.index(n) for n in "Lu Ll Lt Lm Nl So Mn Mc".split()}
    out = set()
    for cp in all_scalars():
        ch = chr(cp)
        if unicodedata.category(ch) == "Cn":
            if category[cp] in cased_cats:
                out.add(cp)
            continue
        variants = {ch.lower(), ch.upper(), ch.casefold(), ch.title()}
        if variants != {ch}:
            out.add(cp)
            out.update(ord(v) for v in variants if len(v) == 1)
    return sorted(out)


def onig_fold_classes(category):
    """Maps each code point with case-insensitive partners to its class (a frozenset), as
    Oniguruma's (?i:x) matches single code points."""
    candidates = fold_candidates(category)
    text = "\n".join(chr(cp) for cp in candidates)
    classes = {}
    for cp in candidates:
        escaped = "\\x{%X}" % cp
        members = {ord(p) for p in onig_isolated_matches("(?i:%s)" % escaped, text) if len(p) == 1}
        assert cp in members, hex(cp)
        if len(members) > 1:
            classes[cp] = frozenset(members)
    for cp, members in classes.items():
        for other in members:
            assert classes.get(other) == members, ("fold classes not an equivalence", hex(cp))
    return classes


def fold_representative(members):
    """CaseFolding.txt's simple (C/S) target of a class: the member that folds to itself."""
    own = [cp for cp in members
           if unicodedata.category(chr(cp)) != "Cn" and chr(cp).casefold() == chr(cp)]
    # Unicode 15.1 added S mappings 1FD3->0390, 1FE3->03B0, FB05->FB06 (pairs that share a full
    # folding); unicodedata 14.0 does not know them, Oniguruma does.
    patched = {frozenset({0x0390, 0x1FD3}): 0x0390, frozenset({0x03B0, 0x1FE3}): 0x03B0,
               frozenset({0xFB05, 0xFB06}): 0xFB06}
    if members in patched:
        return patched[members]
    if len(own) == 1:
        return own[0]
    lower = [cp for cp in members if unicodedata.category(chr(cp)) == "Ll" or
             (unicodedata.category(chr(cp)) == "Cn" and chr(cp).lower() == chr(cp))]
    if not own:
        # A class unknown to unicodedata 14.0: new Unicode 16.0 letters, lower case is the target.
        return min(members, key=lambda cp: (cp not in lower, cp))
    # Several self-folding members share a full (F) folding, e.g. U+00DF and U+1E9E: the
    # smallest is the S target in every such class of Unicode 14.0.
    return min(own)


def multi_char_folds():
    """Code points whose full case folding (CaseFolding.txt F) has several code points."""
    out = []
    for cp in all_scalars():
        folded = chr(cp).casefold()
        if len(folded) > 1:
            out.append((cp, [ord(c) for c in folded]))
    return out


def crate_normalize_each(form, cps):
    """tokenizers' normalizer `form` applied to each code point alone ("\\n" is a starter that
    never decomposes or composes, so one call serves them all)."""
    text = "\n".join(chr(cp) for cp in cps)
    out = getattr(normalizers, form)().normalize_str(text).split("\n")
    assert len(out) == len(cps)
    return dict(zip(cps, out))


def crate_combining_classes(canon):
    """Combining class of each code point as the crate applies it: unicodedata's value when the
    crate reorders the code point around a probe mark, else 0 (a mark the crate predates). A code
    point with a canonical decomposition keeps unicodedata's value: normalization never sees it."""
    nfd = normalizers.NFD()
    ccc = {}
    for cp in all_scalars():
        k = unicodedata.combining(chr(cp))
        if k == 0:
            continue
        if cp in canon:
            ccc[cp] = k
            continue
        # Probe with U+0334 (ccc 1) after it, or U+0301 (ccc 230) before it when k == 1: a known
        # class reorders the pair into canonical order.
        if k > 1:
            probe, reordered = chr(cp) + "\u0334", "\u0334" + chr(cp)
        else:
            probe, reordered = "\u0301" + chr(cp), chr(cp) + "\u0301"
        got = nfd.normalize_str(probe)
        if got == reordered:
            ccc[cp] = k
        else:
            assert got == probe, hex(cp)
    return ccc


def crate_normalization():
    cps = [cp for cp in all_scalars() if cp != 0x0A]
    crate = {form: crate_normalize_each(form, cps) for form in ("NFC", "NFD", "NFKC", "NFKD")}
    canon, compat = {}, {}
    for cp in cps:
        if HANGUL_S <= cp < HANGUL_S + HANGUL_S_COUNT:
            continue  # algorithmic
        for form, table in (("NFD", canon), ("NFKD", compat)):
            got, py = crate[form][cp], unicodedata.normalize(form, chr(cp))
            if got == py and py != chr(cp):
                table[cp] = [ord(c) for c in py]
            else:
                assert got == chr(cp), (form, hex(cp))
    ccc = crate_combining_classes(canon)
    compositions = []
    for cp in cps:
        mapping = unicodedata.decomposition(chr(cp))
        if not mapping or mapping.startswith("<") or cp not in canon:
            continue
        parts = [int(p, 16) for p in mapping.split()]
        if len(parts) == 2 and crate["NFC"][cp] == chr(cp):
            compositions.append((parts[0], parts[1], cp))
    compositions.sort()
    return crate, canon, compat, ccc, compositions


def quick_check_flags(crate, canon, compat, ccc, compositions):
    """Per code point: bits 0-7 combining class, 8 canonical decomposition (NFD_QC=No),
    9 compatibility decomposition (NFKD_QC=No), 10 NFC_QC=No, 11 NFC/NFKC_QC=Maybe (may combine
    with the previous code point), 12 NFKC_QC=No."""
    flags = [0] * MAX_CP
    for cp, k in ccc.items():
        flags[cp] |= k
    seconds = {second for _, second, _ in compositions}
    seconds.update(range(0x1161, 0x1176))  # Hangul V
    seconds.update(range(0x11A8, 0x11C3))  # Hangul T
    for cp in seconds:
        flags[cp] |= 1 << 11
    for cp in range(MAX_CP):
        hangul = HANGUL_S <= cp < HANGUL_S + HANGUL_S_COUNT
        if cp in canon or hangul:
            flags[cp] |= 1 << 8
        if cp in compat or cp in canon or hangul:
            flags[cp] |= 1 << 9
        if cp in crate["NFC"] and crate["NFC"][cp] != chr(cp):
            flags[cp] |= 1 << 10
        if cp in crate["NFKC"] and crate["NFKC"][cp] != chr(cp):
            flags[cp] |= 1 << 12
    return flags


def two_level(values, shift):
    """Splits `values` (one per code point) into blocks of 1 << shift, sharing equal blocks."""
    size = 1 << shift
    index, blocks, seen = [], [], {}
    for start in range(0, MAX_CP, size):
        block = tuple(values[start:start + size])
        if block not in seen:
            seen[block] = len(blocks)
            blocks.append(block)
        index.append(seen[block])
    return index, [v for block in blocks for v in block]


def c_array(ctype, name, values, per_line=16, fmt="%d"):
    lines = ["extern const %s %s[%d] = {" % (ctype, name, len(values))]
    for i in range(0, len(values), per_line):
        lines.append("    " + ",".join(fmt % v for v in values[i:i + per_line]) + ",")
    lines.append("};")
    return "\n".join(lines)


def c_rows(ctype, name, rows, fmt, per_line):
    lines = ["extern const %s %s[%d] = {" % (ctype, name, len(rows))]
    for i in range(0, len(rows), per_line):
        lines.append("    " + ",".join(fmt % row for row in rows[i:i + per_line]) + ",")
    lines.append("};")
    return "\n".join(lines)


def c_prop_string(name, values, per_line=96):
    """Property bytes as one string literal, each stored as value + kPropBias (printable ASCII)."""
    lines = ["extern const char %s[%d] =" % (name, len(values) + 1)]
    for i in range(0, len(values), per_line):
        chunk = ""
        for v in values[i:i + per_line]:
            ch = chr(v + PROP_BIAS)
            assert 33 <= ord(ch) <= 126
            chunk += "\\" + ch if ch in '"\\' else ch
        lines.append('    "%s"' % chunk)
    lines[-1] += ";"
    return "\n".join(lines)


PROP_SHIFT = 7
PROP_BIAS = 33
NORM_SHIFT = 7


def emit(path, props, fold_classes, multi_folds, canon, compat, flags, compositions):
    prop_index, prop_blocks = two_level(props, PROP_SHIFT)
    norm_index, norm_blocks = two_level(flags, NORM_SHIFT)
    assert len(prop_blocks) >> PROP_SHIFT < 65536 and len(norm_blocks) >> NORM_SHIFT < 65536
    # A code point with a canonical decomposition gets its compatibility decomposition at run time
    # from its canonical pieces' (full decompositions compose), so only the others are stored.
    for cp, pieces in canon.items():
        assert compat[cp] == [x for p in pieces for x in compat.get(p, [p])], hex(cp)
    compat = {cp: pieces for cp, pieces in compat.items() if cp not in canon}
    pool, canon_rows, compat_rows = [], [], []
    for table, rows in ((canon, canon_rows), (compat, compat_rows)):
        for cp in sorted(table):
            rows.append((cp, len(pool), len(table[cp])))
            pool.extend(table[cp])
    assert len(pool) < 65536 and max(r[2] for r in compat_rows) < 256
    reps = {}
    for cp, members in fold_classes.items():
        reps[cp] = fold_representative(members)
    fold_rows = sorted((cp, rep) for cp, rep in reps.items() if cp != rep)
    out = [
        "// GENERATED by scripts/gen_unicode_tables.py; do not edit. Regenerate with",
        "//   ~/.cache/r1kit/venv/bin/python scripts/gen_unicode_tables.py   (from the repository root)",
        "// Large on purpose (generated data, STYLE.md rule 10): Oniguruma 6.9.10's (Unicode 16.0)",
        "// categories, \\s and \\w and case-insensitive classes as the `tokenizers` library's regex",
        "// engine applies them, and the normalization data of the unicode-normalization-alignments",
        "// crate (unicodedata 14.0 restricted to what that crate applies). Layouts:",
        "// core/tokenizer/internal/unicode_tables.h.",
        '#include "core/tokenizer/internal/unicode_tables.h"',
        "",
        "namespace r1::tokenizer::unicode::tables {",
        "",
        "static_assert(kPropShift == %d && kNormShift == %d && kPropBias == %d);" %
        (PROP_SHIFT, NORM_SHIFT, PROP_BIAS),
        "",
        c_array("uint16_t", "kPropIndex", prop_index, 32),
        c_prop_string("kPropBlocks", prop_blocks),
        c_array("uint16_t", "kNormIndex", norm_index, 32),
        c_array("uint16_t", "kNormBlocks", norm_blocks, 32),
        c_array("char32_t", "kDecompositionPool", pool, 24),
        c_rows("Decomposition", "kCanonical", canon_rows, "{%d,%d,%d}", 8),
        c_rows("Decomposition", "kCompatibility", compat_rows, "{%d,%d,%d}", 8),
        c_rows("Composition", "kCompositions", compositions, "{%d,%d,%d}", 8),
        c_rows("FoldPair", "kFoldPairs", fold_rows, "{%d,%d}", 10),
        c_rows("MultiFold", "kMultiFolds", [(cp, *((f + [0, 0])[:3])) for cp, f in multi_folds],
               "{%d,{%d,%d,%d}}", 6),
        "",
        "extern const std::size_t kNumCanonical = %d;" % len(canon_rows),
        "extern const std::size_t kNumCompatibility = %d;" % len(compat_rows),
        "extern const std::size_t kNumCompositions = %d;" % len(compositions),
        "extern const std::size_t kNumFoldPairs = %d;" % len(fold_rows),
        "extern const std::size_t kNumMultiFolds = %d;" % len(multi_folds),
        "",
        "}  // namespace r1::tokenizer::unicode::tables",
        "",
    ]
    with open(path, "w", encoding="ascii") as f:
        f.write("\n".join(out))
    print("wrote %s: prop blocks %d, norm blocks %d, pool %d, canonical %d, compatibility %d, "
          "compositions %d, fold pairs %d, multi folds %d" %
          (path, len(prop_blocks) >> PROP_SHIFT, len(norm_blocks) >> NORM_SHIFT, len(pool),
           len(canon_rows), len(compat_rows), len(compositions), len(fold_rows), len(multi_folds)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="core/tokenizer/unicode_tables.cpp")
    args = parser.parse_args()
    print("unicodedata", unicodedata.unidata_version, file=sys.stderr)
    props, category = onig_properties()
    print("properties done", file=sys.stderr)
    fold_classes = onig_fold_classes(category)
    print("fold classes:", len(fold_classes), file=sys.stderr)
    crate, canon, compat, ccc, compositions = crate_normalization()
    print("normalization: canonical %d compat %d ccc %d compositions %d" %
          (len(canon), len(compat), len(ccc), len(compositions)), file=sys.stderr)
    flags = quick_check_flags(crate, canon, compat, ccc, compositions)
    emit(args.out, props, fold_classes, multi_char_folds(), canon, compat, flags, compositions)


if __name__ == "__main__":
    main()
