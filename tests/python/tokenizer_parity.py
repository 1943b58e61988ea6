"""Reference side of the tokenizer parity test: encodes and decodes the generated corpus with the
`tokenizers` library and writes what it returned, one JSON line per case:
  {"hex": <utf-8 bytes>, "ids": [...], "ids_special": [...], "decoded": str, "decoded_skip": str}
  {"hex": ..., "error": true}                       (the library refused the input)
  {"decode_ids": [...], "decoded": str, "decoded_skip": str}   (random id sequences)
Usage: tokenizer_parity.py TOKENIZER_JSON OUT_JSONL SEED COUNT NUM_RANDOM_ID_SEQUENCES
"""
import json
import random
import sys

from tokenizers import Tokenizer

sys.path.insert(0, __import__("os").path.dirname(__file__))
from tokenizer_corpus import Corpus  # noqa: E402


def main():
    path, out_path, seed, count, num_random = sys.argv[1:6]
    tok = Tokenizer.from_file(path)
    specials = [t.content for t in tok.get_added_tokens_decoder().values()][:200]
    corpus = Corpus(int(seed), specials)
    vocab_size = tok.get_vocab_size(with_added_tokens=True)
    with open(out_path, "w") as out:
        for raw in corpus.strings(int(count)):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                out.write(json.dumps({"hex": raw.hex(), "error": True}) + "\n")
                continue
            ids = tok.encode(text, add_special_tokens=False).ids
            ids_special = tok.encode(text, add_special_tokens=True).ids
            out.write(json.dumps({"hex": raw.hex(), "ids": ids, "ids_special": ids_special,
                                  "decoded": tok.decode(ids_special, skip_special_tokens=False),
                                  "decoded_skip": tok.decode(ids_special, skip_special_tokens=True)}) + "\n")
        r = random.Random(int(seed) + 1)
        for _ in range(int(num_random)):
            # Random ids, including byte tokens that alone are invalid UTF-8, and added tokens.
            ids = [r.randrange(vocab_size) if r.random() < 0.7 else r.randrange(0, 512)
                   for _ in range(r.randint(1, 24))]
            out.write(json.dumps({"decode_ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False),
                                  "decoded_skip": tok.decode(ids, skip_special_tokens=True)}) + "\n")


if __name__ == "__main__":
    main()
