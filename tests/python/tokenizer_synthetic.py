"""Builds tokenizer.json files that exercise the pipeline components the real files do not use,
with the `tokenizers` library itself (a BPE trained on generated text, then the component set):
sentencepiece-style Metaspace + byte fallback + Replace/ByteFallback/Fuse/Strip decoders,
GPT-2-style ByteLevel with its own regex and a BOS/EOS template, Split behaviours and inversion,
Digits, NFKC/NFD/NFKD, Prepend/Replace/Strip normalizers, unk fusing, ignore_merges, and added
tokens with every lstrip/rstrip/single_word/normalized/special combination.
Usage: tokenizer_synthetic.py OUT_DIR   (writes OUT_DIR/<name>.json, prints the names)
"""
import os
import sys

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

sys.path.insert(0, os.path.dirname(__file__))
from tokenizer_corpus import Corpus  # noqa: E402


def training_text():
    c = Corpus(7, ["<sp>", "[DAY]"])
    return [c.text() for _ in range(3000)]


def added_tokens():
    toks = []
    for i, (l, r, sw, norm, sp) in enumerate([(a, b, c, d, e) for a in (0, 1) for b in (0, 1) for c in (0, 1)
                                              for d in (0, 1) for e in (0, 1)]):
        toks.append(AddedToken(f"<t{i}>" if i % 3 else f"Tok{i}", lstrip=bool(l), rstrip=bool(r),
                               single_word=bool(sw), normalized=bool(norm), special=bool(sp)))
    toks.append(AddedToken("day", single_word=True, normalized=True))
    toks.append(AddedToken("\u00c5ngstr\u00f6m", normalized=True))  # changes under NFD/NFKC
    return toks


def build(name, model, trainer, normalizer=None, pre=None, decoder=None, post=None, added=True):
    tok = Tokenizer(model)
    if normalizer is not None:
        tok.normalizer = normalizer
    if pre is not None:
        tok.pre_tokenizer = pre
    tok.train_from_iterator(training_text(), trainer)
    if decoder is not None:
        tok.decoder = decoder
    if post is not None:
        tok.post_processor = post
    if added:
        tok.add_tokens([t for t in added_tokens() if not t.special])
        tok.add_special_tokens([t for t in added_tokens() if t.special])
    return name, tok


def configs():
    bpe = lambda **kw: trainers.BpeTrainer(vocab_size=kw.pop("vocab_size", 900), show_progress=False, **kw)
    byte_alphabet = pre_tokenizers.ByteLevel.alphabet()
    yield build("gpt2_bytelevel", models.BPE(), bpe(initial_alphabet=byte_alphabet, special_tokens=["<s>", "</s>"]),
                pre=pre_tokenizers.ByteLevel(add_prefix_space=True),
                decoder=decoders.ByteLevel(),
                post=processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 1)]))
    yield build("spm_metaspace", models.BPE(byte_fallback=True, unk_token="<unk>", fuse_unk=True),
                bpe(special_tokens=["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]),
                normalizer=normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")]),
                decoder=decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(), decoders.Fuse(),
                                           decoders.Strip(" ", 1, 0)]),
                post=processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)]))
    yield build("metaspace_first", models.BPE(unk_token="<unk>"), bpe(special_tokens=["<unk>"]),
                pre=pre_tokenizers.Metaspace(prepend_scheme="first"),
                decoder=decoders.Metaspace(prepend_scheme="first"))
    yield build("split_behaviours", models.BPE(unk_token="<unk>", fuse_unk=False), bpe(special_tokens=["<unk>"]),
                normalizer=normalizers.Sequence([normalizers.NFKC(), normalizers.Strip(left=True, right=True),
                                                 normalizers.Replace(Regex(r"\s+"), " ")]),
                pre=pre_tokenizers.Sequence([
                    pre_tokenizers.Split(Regex(r"[,;]"), "removed"),
                    pre_tokenizers.Split(Regex(r"\p{P}"), "merged_with_previous"),
                    pre_tokenizers.Split(" ", "merged_with_next"),
                    pre_tokenizers.Split(Regex(r"\p{L}+"), "isolated", invert=True),
                    pre_tokenizers.Digits(individual_digits=False),
                    pre_tokenizers.Split(Regex(r"(?i:ab|cd)"), "contiguous")]),
                decoder=decoders.Fuse())
    yield build("digits_nfd", models.BPE(unk_token="[UNK]"), bpe(special_tokens=["[UNK]"]),
                normalizer=normalizers.NFD(),
                pre=pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(r"\s+"), "removed"),
                                             pre_tokenizers.Digits(individual_digits=True)]))
    yield build("ignore_merges_bytelevel", models.BPE(ignore_merges=True),
                bpe(initial_alphabet=byte_alphabet),
                normalizer=normalizers.NFKD(),
                pre=pre_tokenizers.Sequence([
                    pre_tokenizers.Split(Regex(r"\p{N}{1,3}"), "isolated"),
                    pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]),
                decoder=decoders.ByteLevel())


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    for name, tok in configs():
        tok.save(os.path.join(out_dir, name + ".json"))
        print(name)


if __name__ == "__main__":
    main()
