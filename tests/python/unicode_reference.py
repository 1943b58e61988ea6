"""The reference side of tests/core/tokenizer/unicode_test.cpp: what the `tokenizers` library (its
Oniguruma regexes, its NFC/NFD/NFKC/NFKD normalizers, its ByteLevel decoder) and Python do, printed
as one JSON object on stdout.

  classes                   code point ranges of \\p{L} \\p{N} \\p{M} \\p{P} \\p{S} \\s \\w \\d, as
                            Oniguruma matches them (\\w both inside and outside brackets)
  categories                code point ranges of each general category \\p{Lu} ... \\p{Cn} (Cn and
                            Co over all code points, the others over planes 0-3 and 14)
  fold CP...                for each code point CP (decimal): every code point (?i:CP) matches
  normalize_each            for each form: [cp, result] for every code point whose result differs
  normalize                 stdin {"strings": [...]}: {"NFC": [...], "NFD": [...], ...}
  lossy                     stdin {"hex": [...]}: {"python": [...], "rust": [...]}, hex of the
                            UTF-8 of bytes.decode("utf-8", "replace") and of Rust's
                            String::from_utf8_lossy (tokenizers' ByteLevel decoder applies it)
"""

import json
import sys

from tokenizers import Regex, decoders, normalizers

FORMS = ("NFC", "NFD", "NFKC", "NFKD")
CATEGORIES = ("Lu Ll Lt Lm Lo Mn Mc Me Nd Nl No Pc Pd Ps Pe Pi Pf Po "
              "Sm Sc Sk So Zs Zl Zp Cc Cf Co Cn").split()


def scalars():
    return [cp for cp in range(0x110000) if not 0xD800 <= cp < 0xE000]


def ranges(cps):
    out = []
    for cp in sorted(cps):
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


def kept(text, pattern):
    """Code points of `text` that Oniguruma does not delete as matches of `pattern`."""
    return {ord(ch) for ch in normalizers.Replace(Regex(pattern), "").normalize_str(text)}


def classes():
    text = "".join(chr(cp) for cp in scalars())
    out = {}
    # "w" is \w inside brackets, "w_escape" the \w escape outside them (they differ in Latin-1).
    for name, negated in (("L", r"\P{L}"), ("N", r"\P{N}"), ("M", r"\P{M}"), ("P", r"\P{P}"),
                          ("S", r"\P{S}"), ("s", r"\S"), ("w", r"[^\w]"), ("w_escape", r"\W"),
                          ("d", r"\D")):
        out[name] = ranges(kept(text, negated + "+"))
    return out


# Planes 4-13 (unassigned) and 15-16 (private use) hold only Cn and Co: those two categories are
# asked over every code point, the others over the remaining planes, which is 3x faster.
ASSIGNED_PLANES = (0, 1, 2, 3, 14)


def categories():
    everything = "".join(chr(cp) for cp in scalars())
    planes = "".join(chr(cp) for cp in scalars() if cp >> 16 in ASSIGNED_PLANES)
    return {name: ranges(kept(everything if name in ("Cn", "Co") else planes, r"\P{%s}+" % name))
            for name in CATEGORIES}


def fold(cps):
    # Unassigned and private-use code points have no case partners (Oniguruma's own \p{Cn} and
    # \p{Co} say which they are), so the search runs over the other ~290,000.
    every = "".join(chr(cp) for cp in scalars())
    assigned = kept(every, r"[\p{Cn}\p{Co}]+")
    text = "".join(chr(cp) for cp in sorted(assigned))
    return {str(cp): sorted(assigned - kept(text, "(?i:\\x{%X})" % cp)) for cp in cps}


def normalize_each():
    cps = [cp for cp in scalars() if cp != 0x0A]
    text = "\n".join(chr(cp) for cp in cps)  # "\n" never decomposes nor composes
    out = {}
    for form in FORMS:
        results = getattr(normalizers, form)().normalize_str(text).split("\n")
        assert len(results) == len(cps)
        out[form] = [[cp, r] for cp, r in zip(cps, results) if r != chr(cp)]
    return out


def normalize(strings):
    return {form: [getattr(normalizers, form)().normalize_str(s) for s in strings] for form in FORMS}


def byte_level_alphabet():
    """GPT-2's bytes_to_unicode, which tokenizers' ByteLevel decoder inverts."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1)) +
          list(range(ord("\u00ae"), ord("\u00ff") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def lossy(hex_cases):
    alphabet = byte_level_alphabet()
    decoder = decoders.ByteLevel()
    python, rust = [], []
    for h in hex_cases:
        raw = bytes.fromhex(h)
        python.append(raw.decode("utf-8", "replace").encode("utf-8").hex())
        token = "".join(alphabet[b] for b in raw)
        rust.append(decoder.decode([token]).encode("utf-8").hex() if raw else "")
    return {"python": python, "rust": rust}


def main():
    mode = sys.argv[1]
    if mode == "classes":
        out = classes()
    elif mode == "categories":
        out = categories()
    elif mode == "fold":
        out = fold([int(a) for a in sys.argv[2:]])
    elif mode == "normalize_each":
        out = normalize_each()
    elif mode == "normalize":
        out = normalize(json.load(sys.stdin)["strings"])
    elif mode == "lossy":
        out = lossy(json.load(sys.stdin)["hex"])
    else:
        sys.exit("unknown mode " + mode)
    sys.stdout.write(json.dumps(out))  # json.dumps uses the C encoder, json.dump does not


if __name__ == "__main__":
    main()
