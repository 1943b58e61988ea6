"""Loads a directory with transformers.AutoTokenizer (as a user of an r1kit export would) and
encodes the texts given as JSON lines on stdin; prints {"ids": [...], "ids_special": [...],
"decoded": str} per line, then a last line {"class": <tokenizer class>, "bos": .., "eos": ..}.
Usage: tokenizer_autotokenizer.py DIR < texts.jsonl
"""
import json
import sys

from transformers import AutoTokenizer


def main():
    tok = AutoTokenizer.from_pretrained(sys.argv[1])
    for line in sys.stdin:
        text = json.loads(line)["text"]
        ids = tok(text, add_special_tokens=False)["input_ids"]
        ids_special = tok(text, add_special_tokens=True)["input_ids"]
        print(json.dumps({"ids": ids, "ids_special": ids_special,
                          "decoded": tok.decode(ids_special, skip_special_tokens=True,
                                                clean_up_tokenization_spaces=False)}))
    print(json.dumps({"class": type(tok).__name__, "bos": tok.bos_token, "eos": tok.eos_token,
                      "pad": tok.pad_token, "has_chat_template": tok.chat_template is not None}))


if __name__ == "__main__":
    main()
