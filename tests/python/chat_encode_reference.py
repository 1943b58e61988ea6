"""Reference for Tokenizer::encode_chat: transformers' apply_chat_template with tokenize=True and
return_assistant_tokens_mask=True, for a tokenizer directory and a chat template file.
Reads {"messages": [...], "add_generation_prompt": bool} lines on stdin; prints
{"text": str, "ids": [...], "mask": [...]} per line.
Usage: chat_encode_reference.py DIR TEMPLATE_FILE
"""
import json
import sys

from transformers import AutoTokenizer


def main():
    tok = AutoTokenizer.from_pretrained(sys.argv[1])
    template = open(sys.argv[2]).read()
    for line in sys.stdin:
        case = json.loads(line)
        kwargs = dict(chat_template=template, add_generation_prompt=case["add_generation_prompt"])
        text = tok.apply_chat_template(case["messages"], tokenize=False, **kwargs)
        out = tok.apply_chat_template(case["messages"], tokenize=True, return_dict=True,
                                      return_assistant_tokens_mask=True, **kwargs)
        ids = out["input_ids"]
        print(json.dumps({"text": text, "ids": ids, "mask": out["assistant_masks"]}))


if __name__ == "__main__":
    main()
