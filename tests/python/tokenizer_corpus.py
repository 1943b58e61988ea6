"""Generates the tokenizer parity corpus: strings that stress what the pre-tokenizer regexes,
normalizers, added-token matching and byte-level BPE distinguish. Deterministic for a seed.

Each string is returned as UTF-8 bytes; a few deliberately hold encoded lone surrogates (invalid
UTF-8) that both the library and r1kit must refuse.
"""
import random
import unicodedata

# Blocks of the scripts the regexes and normalizers treat differently (start, end inclusive).
SCRIPTS = {
    "latin": [(0x41, 0x5A), (0x61, 0x7A), (0xC0, 0x24F), (0x1E00, 0x1EFF)],
    "greek": [(0x370, 0x3FF)], "cyrillic": [(0x400, 0x4FF)], "armenian": [(0x531, 0x58A)],
    "hebrew": [(0x591, 0x5F4)], "arabic": [(0x600, 0x6FF), (0x750, 0x77F)],
    "devanagari": [(0x900, 0x97F)], "bengali": [(0x980, 0x9FF)], "tamil": [(0xB80, 0xBFF)],
    "telugu": [(0xC00, 0xC7F)], "thai": [(0xE00, 0xE7F)], "tibetan": [(0xF00, 0xFFF)],
    "myanmar": [(0x1000, 0x109F)], "georgian": [(0x10A0, 0x10FF)], "hangul_jamo": [(0x1100, 0x11FF)],
    "ethiopic": [(0x1200, 0x137F)], "cherokee": [(0x13A0, 0x13FF)], "khmer": [(0x1780, 0x17FF)],
    "mongolian": [(0x1800, 0x18AF)], "hiragana": [(0x3040, 0x309F)], "katakana": [(0x30A0, 0x30FF)],
    "cjk": [(0x4E00, 0x9FFF)], "cjk_ext": [(0x3400, 0x4DBF), (0x20000, 0x2A6DF)],
    "hangul": [(0xAC00, 0xD7A3)], "fullwidth": [(0xFF01, 0xFF5E)], "math_alnum": [(0x1D400, 0x1D7FF)],
    "emoji": [(0x1F300, 0x1F5FF), (0x1F600, 0x1F64F), (0x1F900, 0x1F9FF)],
    "symbols": [(0x2000, 0x206F), (0x2100, 0x214F), (0x2190, 0x21FF), (0x2200, 0x22FF), (0x2500, 0x257F)],
    "combining": [(0x300, 0x36F), (0x1AB0, 0x1AFF), (0x20D0, 0x20FF)],
    "compat": [(0xFB00, 0xFB4F), (0x2460, 0x24FF), (0x3300, 0x33FF), (0xFE30, 0xFE6F)],
}
CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Ve", "'M", "'LL",
                "'D", "\u2019s", "'\u017f", "'x"]
SPACES = [" ", "  ", "\t", "\n", "\r\n", "\r", "\n\n", " \n", "\u00a0", "\u3000", "\u2009", "\x0b",
          "\x0c", "\u0085", "\u2028", " \t ", "    ", "\n\n\n"]
CODE = ["def f(x):\n    return x**2 + 1\n", "for (int i = 0; i < n; ++i) { a[i] += b[i]; }",
        "if x != None and y >= 3:\n\tprint(f\"{x!r}\")", "#include <vector>\nint main() {}",
        "SELECT * FROM t WHERE id = 42;", "x = [1, 2, 3]  # comment", "  \"key\": {\"a\": [1.5e-3]},",
        "fn main() -> Result<(), Box<dyn Error>> { Ok(()) }", "$ ls -la | grep '^d' >> out.txt",
        "\\frac{1}{2} + \\sqrt{x^2}", "<div class=\"a\">&nbsp;</div>", "a->b; c::d; e=>f; g<=h"]


def category_pools():
    pools = {}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        pools.setdefault(unicodedata.category(chr(cp)), []).append(cp)
    return pools


class Corpus:
    def __init__(self, seed, specials):
        self.r = random.Random(seed)
        self.pools = category_pools()
        self.specials = specials  # the special/added token strings of the tokenizer

    def char_of_script(self, name):
        lo, hi = self.r.choice(SCRIPTS[name])
        return chr(self.r.randint(lo, hi))

    def word(self, script=None):
        script = script or self.r.choice(list(SCRIPTS))
        return "".join(self.char_of_script(script) for _ in range(self.r.randint(1, 8)))

    def number(self):
        n = self.r.choice([1, 2, 3, 4, 5, 6, 7, 9, 12, 16, 25, 40])
        digits = "".join(self.r.choice("0123456789") for _ in range(n))
        form = self.r.random()
        if form < 0.15:
            return digits[:1] + "." + digits[1:]
        if form < 0.25:
            return "{:,}".format(int(digits))
        if form < 0.3:
            return "".join(chr(0x660 + int(d)) for d in digits)  # Arabic-Indic digits
        if form < 0.35:
            return "".join(chr(0xFF10 + int(d)) for d in digits)  # fullwidth digits
        return digits

    def any_char(self):
        cat = self.r.choice(sorted(self.pools))
        return chr(self.r.choice(self.pools[cat]))

    def emoji_zwj(self):
        base = self.r.choice(["\U0001F468", "\U0001F469", "\U0001F9D1", "\U0001F3F3", "\u2764"])
        parts = [base]
        for _ in range(self.r.randint(1, 3)):
            parts.append("\u200d" + self.r.choice(["\U0001F469", "\U0001F467", "\U0001F4BB", "\u2620",
                                                     "\U0001F308", "\U0001F525"]))
        if self.r.random() < 0.5:
            parts.append(self.r.choice(["\ufe0f", "\U0001F3FD", "\U0001F3FB"]))
        return "".join(parts)

    def combining(self):
        base = self.r.choice(["a", "e", "o", "A", "\u0391", "\u0430", "\u05d0", "\u0915", "\u1100", "\uac00"])
        marks = "".join(self.char_of_script("combining") for _ in range(self.r.randint(1, 4)))
        return base + marks

    def lookalike(self):
        if not self.specials:
            return "<|endoftext|>"
        s = self.r.choice(self.specials)
        form = self.r.randint(0, 6)
        if form == 0:
            return s
        if form == 1:
            return s[:-1]
        if form == 2:
            return s[1:]
        if form == 3:
            return s.upper()
        if form == 4:
            return " " + s + " "
        if form == 5:
            return s + s
        return s[: len(s) // 2] + " " + s[len(s) // 2:]

    def piece(self):
        kind = self.r.randint(0, 13)
        if kind == 0:
            return self.word("latin") + self.r.choice(CONTRACTIONS)
        if kind == 1:
            return self.number()
        if kind == 2:
            return self.r.choice(SPACES)
        if kind == 3:
            return self.word()
        if kind == 4:
            return self.any_char()
        if kind == 5:
            return self.emoji_zwj()
        if kind == 6:
            return self.combining()
        if kind == 7:
            return self.r.choice(CODE)
        if kind == 8:
            return self.lookalike()
        if kind == 9:
            return "".join(self.r.choice("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") for _ in range(self.r.randint(1, 4)))
        if kind == 10:
            return self.word(self.r.choice(["cjk", "hiragana", "katakana", "hangul"]))
        if kind == 11:
            return self.word("latin").capitalize()
        if kind == 12:
            return self.char_of_script("compat")
        return " " + self.word("latin")

    def text(self):
        return "".join(self.piece() for _ in range(self.r.randint(1, 12)))

    def strings(self, count):
        """`count` UTF-8 byte strings: mixed texts plus targeted edge cases."""
        out = [b"", b" ", b"\n", b"a", "\u00e9".encode(), "e\u0301".encode()]
        for n in range(1, 41):
            out.append(("9" * n).encode())
            out.append((" " * n + "x").encode())
        for s in self.specials:
            out.append(s.encode())
            out.append(("x" + s + "y").encode())
        while len(out) < count:
            kind = self.r.random()
            if kind < 0.003:
                # Very long words: one script, no spaces (merging must stay exact and fast).
                out.append((self.word("latin") * self.r.randint(100, 800)).encode())
            elif kind < 0.006:
                out.append(("".join(self.any_char() for _ in range(self.r.randint(200, 2000)))).encode())
            elif kind < 0.008:
                # Lone surrogate, as Python's surrogatepass writes it: invalid UTF-8 that must be refused.
                out.append(self.text().encode() + chr(0xD800 + self.r.randint(0, 0x7FF)).encode("utf-8", "surrogatepass"))
            else:
                out.append(self.text().encode())
        return out[:count]
