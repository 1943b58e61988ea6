"""Reference side of bench/tokenizer: writes the mixed-text corpus and times the `tokenizers`
library on it, in the same run as r1kit. Prints one JSON object:
  {"mb": corpus MB, "num_tokens": n, "checksum": c, "threads": t, "lib_mbps": x, "runs": k}
where lib_mbps is the faster of encode() in a loop and encode_batch() on a rayon pool of t threads
(RAYON_NUM_THREADS, which the caller sets: the pool size is fixed when the library starts).
Usage: tokenizer_reference.py TOKENIZER_JSON CORPUS_OUT NUM_DOCS RUNS
"""
import json
import os
import random
import statistics
import sys
import time

WORDS = ("the of and to in is that for it as was with be by on not he this are or his from at which but "
         "have an they you were her she there been one all we their has would when if so no what up out "
         "about into than them can only other new some could time these two may then do first any my now "
         "such like our over man me even most made after also did many before must through back years where "
         "much your way well down should because each just those people how too little state good very make "
         "world still own see men work long get here between both life being under never day same another "
         "know while last might us great old year off come since against go came right used take three "
         "model training reward policy gradient token sequence batch layer attention expert router loss "
         "answer question reasoning think step proof value function result equation number sum product").split()
CODE = ["def {0}(x, y):\n    return x * {1} + y\n", "for (int i = 0; i < {1}; ++i) {{ {0}[i] += 1; }}\n",
        "if {0} is not None:\n    print(f\"{{{0}}} = {1}\")\n", "const auto {0} = std::vector<int>({1});\n"]


def corpus(num_docs, seed=0):
    r = random.Random(seed)
    cjk = [chr(c) for c in r.sample(range(0x4E00, 0x9FA6), 2500)]
    zipf = [1.0 / (i + 1) for i in range(len(WORDS))]
    docs = []
    for _ in range(num_docs):
        parts = []
        while sum(len(p) for p in parts) < 2000:
            kind = r.random()
            if kind < 0.6:
                words = r.choices(WORDS, zipf, k=r.randint(6, 25))
                s = " ".join(words)
                parts.append(s[0].upper() + s[1:] + r.choice([".", ",", "?", "!", ":"]) + " ")
            elif kind < 0.75:
                parts.append(r.choice(CODE).format(r.choice(WORDS), r.randint(0, 10 ** r.randint(1, 6))))
            elif kind < 0.9:
                parts.append("".join(r.choices(cjk, [1.0 / (i + 1) ** 0.7 for i in range(len(cjk))],
                                               k=r.randint(10, 60))) + "\u3002")
            else:
                parts.append(f"\n\n## {r.choice(WORDS).title()} {r.randint(1, 99)}\n\n- {r.random():.4f} "
                             f"and {r.randint(1, 10**9)}\n")
        docs.append("".join(parts))
    return docs


def main():
    path, out, num_docs, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    docs = corpus(num_docs)
    with open(out, "w") as f:
        for d in docs:
            f.write(json.dumps({"text": d}) + "\n")
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(path)
    mb = sum(len(d.encode()) for d in docs) / 1e6

    def one_thread():
        return [tok.encode(d, add_special_tokens=False).ids for d in docs]

    def batch():
        return [e.ids for e in tok.encode_batch(docs, add_special_tokens=False)]

    threads = int(os.environ.get("RAYON_NUM_THREADS", "0"))
    result = {"mb": mb, "runs": runs, "threads": threads, "lib_mbps": 0.0}
    for fn in ((one_thread, batch) if threads == 1 else (batch,)):
        fn()  # warm-up (fills the library's word cache, as r1kit's warm-up does)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            ids = fn()
            times.append(time.perf_counter() - t0)
        result["lib_mbps"] = max(result["lib_mbps"], mb / statistics.median(times))
    result["num_tokens"] = sum(len(i) for i in ids)
    result["checksum"] = sum((k + 1) * t for i in ids for k, t in enumerate(i[:64])) % (1 << 61)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
