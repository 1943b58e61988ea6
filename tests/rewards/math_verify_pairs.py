"""Generated (answer, reference) pairs and math-verify's verdict on each, for
tests/rewards/math_verify_parity_test.cpp.

Deterministic: a fixed seed, no clock, no network. Each form of docs/rewards.md "Math answers"
gets equal variants (another notation of the same value) and near misses (a close but different
value or structure). Usage:

    python math_verify_pairs.py --list          # form, answer, reference per line (no math-verify)
    python math_verify_pairs.py                 # form, answer, reference, verdict (1 or 0)

math-verify is called as its README shows: gold = parse(reference), pred = parse(answer), both
wrapped in $...$ so its LaTeX extraction sees the whole string, then verify(gold, pred). Its
signal-based timeouts are fine here: this is its own process, and everything runs in the main
thread. Parsed strings are cached, as many pairs share a side.
"""

import argparse
import logging
import random
import sys
from fractions import Fraction

SEED = 20261206


def frac_tex(f, cmd="frac"):
    sign = "-" if f < 0 else ""
    f = abs(f)
    return f"{sign}\\{cmd}{{{f.numerator}}}{{{f.denominator}}}"


def decimal_text(f, digits):
    return f"{float(f):.{digits}f}"


def terminating(f):
    d = f.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def exact_decimal(f):
    # Enough digits to write a terminating fraction exactly.
    for digits in range(1, 12):
        text = f"{float(f):.{digits}f}"
        if Fraction(text) == f:
            return text
    return None


def integers(r, out):
    for i in range(70):
        n = r.randint(-999, 99999)
        out.append(("integer", str(n), str(n)))
        out.append(("integer", str(n), str(n + r.choice([-1, 1, 10]))))
        if n > 0:
            out.append(("integer", str(n), str(-n)))
        if n >= 1000:
            s = f"{n:,}"
            out.append(("thousands", s, str(n)))
            out.append(("thousands", s.replace(",", "{,}"), str(n)))
            if i % 4 == 0:  # thin-space separators: a quarter of the numbers
                out.append(("thousands", s.replace(",", "\\,"), str(n)))
            if i % 4 == 1:  # the MATH dataset's style, 10,\!000
                out.append(("thousands", s.replace(",", ",\\!"), str(n)))
            out.append(("thousands", s, str(n + 1)))


def decimals(r, out):
    for i in range(70):
        f = Fraction(r.randint(-9999, 99999), r.choice([10, 100, 1000]))
        text = exact_decimal(f)
        out.append(("decimal", text, text))
        out.append(("decimal", text + "0", text))
        out.append(("decimal", text, exact_decimal(f + Fraction(1, 1000))))
        out.append(("decimal", text, exact_decimal(f + Fraction(1, 10**6))))
        if i % 5 == 0:  # below math-verify's 6-place rounding: it accepts, r1kit does not
            out.append(("decimal", text, exact_decimal(f + Fraction(1, 10**7))))


def fractions_(r, out):
    for i in range(100):
        b = r.randint(2, 40)
        a = r.randint(-60, 60)
        if a % b == 0:
            a += 1
        f = Fraction(a, b)
        ref = frac_tex(f)
        out.append(("fraction", f"{f.numerator}/{f.denominator}", ref))
        out.append(("fraction", frac_tex(Fraction(a * 3, b * 3)).replace("frac", "dfrac"), ref))
        out.append(("fraction", frac_tex(f + Fraction(1, b)), ref))
        out.append(("fraction", frac_tex(1 / f) if f != 0 else "0", ref))
        if terminating(f):
            out.append(("fraction-decimal", exact_decimal(f), ref))
        else:
            # Truncated decimals: 2-4 digits are near misses for everyone; 6 digits is where
            # math-verify's rounding to 6 places accepts and r1kit (exact) does not.
            out.append(("fraction-decimal", decimal_text(f, r.choice([2, 3, 4])), ref))
            if i % 5 == 0:
                out.append(("fraction-decimal", decimal_text(f, 6), ref))
        if a > 0 and a > b:
            whole, rest = divmod(a, b)
            out.append(("mixed", f"{whole}\\frac{{{rest}}}{{{b}}}", ref))
            if i % 4 == 0:  # plain-text mixed number "3 1/2"
                out.append(("mixed", f"{whole} {rest}/{b}", ref))


def percents(r, out):
    for _ in range(60):
        p = r.choice([r.randint(1, 99), r.randint(1, 999) / 10])
        p_text = str(p)
        frac = Fraction(p_text) / 100
        out.append(("percent", p_text + "\\%", p_text))
        out.append(("percent", p_text + "\\%", exact_decimal(frac)))
        out.append(("percent", p_text + "\\%", str(Fraction(p_text) + 1)))


def units(r, out):
    words = ["\\text{ cm}", "\\text{ meters}", "\\text{ dollars}", "^\\circ", "^{\\circ}", "\\text{ units}"]
    for _ in range(40):
        n = r.randint(1, 500)
        w = r.choice(words)
        out.append(("units", f"{n}{w}", str(n)))
        out.append(("units", f"{n}{w}", str(n + 1)))
        out.append(("units", f"\\${n}", str(n)))


def roots(r, out):
    for _ in range(45):
        k = r.randint(2, 9)
        m = r.choice([2, 3, 5, 6, 7, 10, 11])
        out.append(("sqrt", f"{k}\\sqrt{{{m}}}", f"\\sqrt{{{k * k * m}}}"))
        out.append(("sqrt", f"\\sqrt{{{k * k * m}}}", f"{k}\\sqrt{{{m}}}"))
        out.append(("sqrt", f"{k}\\sqrt{{{m}}}", f"{k}\\sqrt{{{m + 1}}}"))
        out.append(("sqrt", f"{k}\\sqrt{{{m}}}", f"{k + 1}\\sqrt{{{m}}}"))
        out.append(("sqrt", f"\\frac{{\\sqrt{{{m}}}}}{{{m}}}", f"\\frac{{1}}{{\\sqrt{{{m}}}}}"))
        out.append(("sqrt", f"\\sqrt[3]{{{k ** 3}}}", str(k)))
        out.append(("sqrt", f"{k}\\sqrt{{{m}}}", decimal_text(k * m ** 0.5, 3)))


def pis(r, out):
    for _ in range(50):
        a, b = r.randint(1, 9), r.randint(2, 12)
        out.append(("pi", f"\\frac{{{a}\\pi}}{{{b}}}", f"\\frac{{{a}}}{{{b}}}\\pi"))
        out.append(("pi", f"{a}\\pi/{b}", f"\\frac{{{a}\\pi}}{{{b}}}"))
        out.append(("pi", f"\\frac{{{a}\\pi}}{{{b}}}", f"\\frac{{{a + 1}\\pi}}{{{b}}}"))
        out.append(("pi", f"\\frac{{{a}\\pi}}{{{b}}}", decimal_text(a * 3.141592653589793 / b, 2)))


def scientific(r, out):
    for _ in range(50):
        m = r.randint(11, 99) / 10
        k = r.randint(2, 7)
        value = str(int(round(m * 10**k)))
        out.append(("scientific", f"{m}\\times10^{{{k}}}", value))
        out.append(("scientific", f"{m} \\cdot 10^{k}", value))
        out.append(("scientific", f"{m}\\times10^{{{k + 1}}}", value))


def plus_minus(r, out):
    for _ in range(40):
        k = r.randint(1, 30)
        out.append(("pm", f"\\pm {k}", f"\\{{-{k}, {k}\\}}"))
        out.append(("pm", f"x = \\pm {k}", f"\\{{{k}, -{k}\\}}"))
        out.append(("pm", f"\\pm {k}", str(k)))
        out.append(("pm", f"{k} \\pm \\sqrt{{2}}", f"\\{{{k}+\\sqrt{{2}}, {k}-\\sqrt{{2}}\\}}"))


def assignments(r, out):
    for _ in range(40):
        n = r.randint(-50, 50)
        v = r.choice("xyabnt")
        out.append(("assignment", f"{v} = {n}", str(n)))
        out.append(("assignment", f"{v} = {n}", str(n + 1)))
        out.append(("assignment", str(n), f"{v}={n}"))


def intervals(r, out):
    for _ in range(40):
        a = r.randint(-20, 10)
        b = a + r.randint(1, 20)
        lo, hi = r.choice("[("), r.choice("])")
        ref = f"{lo}{a}, {b}{hi}"
        out.append(("interval", f"{lo}{a},{b}{hi}", ref))
        flipped = ("(" if lo == "[" else "[") + f"{a}, {b}{hi}"
        out.append(("interval", flipped, ref))
        out.append(("interval", f"{lo}{a}, {b + 1}{hi}", ref))
        out.append(("interval", f"[{a}, \\infty)", f"[{a},\\infty)"))
        out.append(("interval", f"(-\\infty, {a}) \\cup ({b}, \\infty)", f"({b}, \\infty) \\cup (-\\infty, {a})"))
        out.append(("interval", f"(-\\infty, {a}] \\cup ({b}, \\infty)", f"(-\\infty, {a}) \\cup ({b}, \\infty)"))


def sets_tuples(r, out):
    for _ in range(45):
        items = r.sample(range(-20, 30), r.randint(2, 5))
        shuffled = items[:]
        r.shuffle(shuffled)
        s = lambda xs: "\\{" + ", ".join(map(str, xs)) + "\\}"
        t = lambda xs: "(" + ", ".join(map(str, xs)) + ")"
        out.append(("set", s(shuffled), s(items)))
        out.append(("set", s(items[:-1]), s(items)))
        out.append(("set", ", ".join(map(str, shuffled)), s(items)))
        out.append(("set", s(items[:-1] + [items[-1] + 1]), s(items)))
        out.append(("tuple", t(items), t(items)))
        if shuffled != items:
            out.append(("tuple", t(shuffled), t(items)))
        out.append(("tuple", t(items[:-1] + [items[-1] + 1]), t(items)))


def expressions(r, out):
    for _ in range(60):
        a, b = r.randint(1, 6), r.randint(-9, 9)
        c, d = r.randint(1, 6), r.randint(-9, 9)
        v = r.choice("xyt")
        def lin(p, q):
            return f"{p}{v}" + (f"+{q}" if q > 0 else (f"{q}" if q < 0 else ""))
        factored = f"({lin(a, b)})({lin(c, d)})"
        c2, c1, c0 = a * c, a * d + b * c, b * d
        expanded = f"{c2}{v}^2" + (f"+{c1}{v}" if c1 > 0 else (f"{c1}{v}" if c1 < 0 else "")) + \
                   (f"+{c0}" if c0 > 0 else (f"{c0}" if c0 < 0 else ""))
        out.append(("expression", factored, expanded))
        out.append(("expression", expanded, factored))
        out.append(("expression", f"({lin(a, b + 1)})({lin(c, d)})", expanded))
        out.append(("expression", f"{v}^{{{r.randint(2, 5)}}}", f"{v}^{{{r.randint(6, 9)}}}"))
        out.append(("expression", f"\\frac{{{v}^2-{b * b}}}{{{v}-{b}}}" if b > 0 else f"{v}+{a}",
                    f"{v}+{b}" if b > 0 else f"{a}+{v}"))


def equations(r, out):
    for _ in range(40):
        m, c = r.randint(-9, 9), r.randint(-9, 9)
        rhs = f"{m}x+{c}" if c >= 0 else f"{m}x{c}"
        out.append(("equation", f"y = {rhs}", rhs))
        out.append(("equation", f"y = {rhs}", f"y={rhs}"))
        out.append(("equation", f"y = {rhs}", f"{m + 1}x+{abs(c)}"))


def matrices(r, out):
    for _ in range(40):
        m = [r.randint(-9, 9) for _ in range(4)]
        p = "\\begin{pmatrix} %d & %d \\\\ %d & %d \\end{pmatrix}" % tuple(m)
        bm = "\\begin{bmatrix}%d&%d\\\\%d&%d\\end{bmatrix}" % tuple(m)
        m2 = m[:]
        m2[r.randrange(4)] += 1
        out.append(("matrix", p, bm))
        out.append(("matrix", "\\begin{pmatrix} %d & %d \\\\ %d & %d \\end{pmatrix}" % tuple(m2), bm))
        out.append(("matrix", "\\begin{pmatrix} %d & %d \\\\ %d & %d \\end{pmatrix}" % (m[0], m[2], m[1], m[3]), p))


def functions(r, out):
    angles = [("\\frac{\\pi}{6}", "\\frac{1}{2}", "\\frac{\\sqrt{3}}{2}"), ("\\frac{\\pi}{3}", "\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}"),
              ("\\frac{\\pi}{4}", "\\frac{\\sqrt{2}}{2}", "\\frac{\\sqrt{2}}{2}"), ("\\pi", "0", "-1")]
    for angle, sin_v, cos_v in angles:
        out.append(("function", f"\\sin({angle})", sin_v))
        out.append(("function", f"\\cos({angle})", cos_v))
        out.append(("function", f"\\sin({angle})", f"{sin_v}+1"))
    for _ in range(25):
        k = r.randint(2, 9)
        v = r.choice("xt")
        out.append(("function", f"\\sin^2 {v} + \\cos^2 {v}", "1"))
        out.append(("function", f"\\sin({k}{v})", f"\\sin({k + 1}{v})"))
        out.append(("function", f"e^{{{k}{v}}}", f"(e^{v})^{k}"))
        out.append(("function", f"e^{{{k}{v}}}", f"e^{{{k + 1}{v}}}"))
        out.append(("function", f"\\log_{{{k}}} {k ** 3}", "3"))
        out.append(("function", f"\\log_{{{k}}} {k ** 3}", "2"))
        out.append(("function", f"{k}!", str(__import__("math").factorial(k))))
        out.append(("function", f"|{v} - {k}|", f"|{k} - {v}|"))
        out.append(("function", f"|{v} - {k}|", f"{v} - {k}"))


def symbols(r, out):
    greek = ["\\alpha", "\\beta", "\\theta", "\\lambda", "\\omega"]
    for _ in range(25):
        g, h = r.sample(greek, 2)
        k = r.randint(2, 9)
        out.append(("symbols", f"{g} + {h}", f"{h} + {g}"))
        out.append(("symbols", f"{k}{g}", f"{g}\\cdot {k}"))
        out.append(("symbols", f"{k}{g}", f"{k}{h}"))
        letter = r.choice("ABCDE")
        other = r.choice([c for c in "ABCDE" if c != letter])
        out.append(("choice", letter, letter))
        out.append(("choice", f"\\text{{({letter})}}", letter))
        out.append(("choice", letter, other))


def generate():
    r = random.Random(SEED)
    out = []
    for form in (integers, decimals, fractions_, percents, units, roots, pis, scientific, plus_minus,
                 assignments, intervals, sets_tuples, expressions, equations, matrices, functions,
                 symbols):
        form(r, out)
    seen, unique = set(), []
    for form, answer, reference in out:
        if (answer, reference) not in seen:
            seen.add((answer, reference))
            unique.append((form, answer, reference))
    return unique


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--list", action="store_true", help="print the pairs without math-verify")
    args = ap.parse_args()
    pairs = generate()
    if args.list:
        for form, answer, reference in pairs:
            print(f"{form}\t{answer}\t{reference}")
        return
    logging.disable(logging.WARNING)  # math-verify logs every unparsable string
    from math_verify import parse, verify

    cache = {}

    def parsed(text):
        if text not in cache:
            cache[text] = parse(f"${text}$")
        return cache[text]

    for form, answer, reference in pairs:
        verdict = verify(parsed(reference), parsed(answer))
        print(f"{form}\t{answer}\t{reference}\t{int(bool(verdict))}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
