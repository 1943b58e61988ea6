"""The reference side of tests/core/tokenizer/sentencepiece_test.cpp: encodes and decodes with the
`sentencepiece` library (the .model file), the `tokenizers` library (the converted tokenizer.json)
and transformers.AutoTokenizer (saved directories), and prints what they returned as one JSON
object on stdout.

  sentencepiece_interop.py REQUEST.json

REQUEST: {"model_file": path, "texts": [str], "decode_ids": [[int]],
          "tokenizer_json": path or null, "dirs": [path]}
Output:  {"spm": {"vocab": [[piece, score, kind]], "bos_id", "eos_id", "unk_id", "pad_id",
                  "encode": [[int]] per text, "decode": [str] (decode of each encode result),
                  "decode_with_specials": [str] (decode of [bos] + ids + [eos])},
          "tokenizers": {"encode": [[int]], "decode": [str], "decode_ids": [str],
                         "decode_ids_skip": [str]} or null,
          "transformers": [{"class": str, "encode": [[int]] (add_special_tokens=True),
                            "decode_ids": [str], "decode_ids_skip": [str]}] per dir}
kind: "unknown", "control", "byte", "unused" or "normal" (sentencepiece's Python API cannot tell
user-defined pieces from normal ones).
"""

import json
import sys

import sentencepiece as spm


def piece_kind(sp, i):
    if sp.is_unknown(i):
        return "unknown"
    if sp.is_control(i):
        return "control"
    if sp.is_byte(i):
        return "byte"
    if sp.is_unused(i):
        return "unused"
    return "normal"


def run_sentencepiece(request):
    sp = spm.SentencePieceProcessor(model_file=request["model_file"])
    texts = request["texts"]
    encoded = [sp.encode(t) for t in texts]
    bos, eos = sp.bos_id(), sp.eos_id()
    specials = [([bos] if bos >= 0 else []) + ids + ([eos] if eos >= 0 else []) for ids in encoded]
    return {
        "vocab": [[sp.id_to_piece(i), sp.get_score(i), piece_kind(sp, i)]
                  for i in range(sp.get_piece_size())],
        "bos_id": bos, "eos_id": eos, "unk_id": sp.unk_id(), "pad_id": sp.pad_id(),
        "encode": encoded,
        "decode": [sp.decode(ids) for ids in encoded],
        "decode_with_specials": [sp.decode(ids) for ids in specials],
    }


def run_tokenizers(request):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(request["tokenizer_json"])
    encoded = [e.ids for e in tok.encode_batch(request["texts"], add_special_tokens=False)]
    return {
        "encode": encoded,
        "decode": tok.decode_batch(encoded, skip_special_tokens=False),
        "decode_ids": tok.decode_batch(request["decode_ids"], skip_special_tokens=False),
        "decode_ids_skip": tok.decode_batch(request["decode_ids"], skip_special_tokens=True),
    }


def run_transformers(request, directory):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(directory)
    ids = request["decode_ids"]
    return {
        "class": type(tok).__name__,
        "encode": tok(request["texts"], add_special_tokens=True)["input_ids"],
        "decode_ids": tok.batch_decode(ids, skip_special_tokens=False),
        "decode_ids_skip": tok.batch_decode(ids, skip_special_tokens=True),
    }


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        request = json.load(f)
    out = {"spm": run_sentencepiece(request), "tokenizers": None, "transformers": []}
    if request.get("tokenizer_json"):
        out["tokenizers"] = run_tokenizers(request)
    for directory in request.get("dirs", []):
        out["transformers"].append(run_transformers(request, directory))
    json.dump(out, sys.stdout, ensure_ascii=True)


if __name__ == "__main__":
    main()
