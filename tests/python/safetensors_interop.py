"""The reference side of tests/core/safetensors_reference_test.cpp: reads and writes safetensors
files and sharded checkpoints with the `safetensors` and `huggingface_hub` libraries and prints
what it found as one JSON object on stdout (tensor bytes as hex, so the C++ side compares bytes).

  read FILE                      tensors, metadata, and whether safetensors.torch.save() of the
                                 same tensors reproduces FILE byte for byte
  write FILE                     one seeded tensor per dtype, saved with save_file
  read_dir DIR MAX ORDER_JSON    a sharded checkpoint through its index, plus huggingface_hub's
                                 shard plan for the tensors in ORDER_JSON's order at MAX bytes
  write_dir DIR MAX              seeded tensors saved with huggingface_hub.save_torch_state_dict
"""

import json
import os
import sys

import torch
from huggingface_hub import save_torch_state_dict, split_torch_state_dict_into_shards
from safetensors import safe_open
from safetensors.torch import save, save_file

DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "F8_E4M3": torch.float8_e4m3fn, "F8_E5M2": torch.float8_e5m2, "I64": torch.int64,
    "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U64": torch.uint64,
    "U32": torch.uint32, "U16": torch.uint16, "U8": torch.uint8, "BOOL": torch.bool,
}
SHAPES = [[3, 5], [], [7], [2, 3, 4], [4, 0]]


def raw_hex(t):
    return t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes().hex()


def describe(tensors, dtype_names):
    return {name: {"dtype": dtype_names[name], "shape": list(t.shape), "hex": raw_hex(t)}
            for name, t in tensors.items()}


def seeded(dtype_name, shape, gen):
    dtype = DTYPES[dtype_name]
    numel = 1
    for d in shape:
        numel *= d
    if dtype == torch.bool:
        return torch.randint(0, 2, (numel,), generator=gen, dtype=torch.uint8).bool().reshape(shape)
    nbytes = numel * torch.empty((), dtype=dtype).element_size()
    raw = torch.randint(0, 256, (nbytes,), generator=gen, dtype=torch.uint8)
    return raw.view(dtype).reshape(shape)


def every_dtype(copies):
    gen = torch.Generator().manual_seed(1234)
    tensors, names = {}, {}
    for copy in range(copies):
        for i, dtype_name in enumerate(DTYPES):
            name = f"model.layers.{copy}.{dtype_name.lower()}.weight"
            tensors[name] = seeded(dtype_name, SHAPES[i % len(SHAPES)], gen)
            names[name] = dtype_name
    return tensors, names


def read_file(path):
    tensors, names = {}, {}
    with safe_open(path, framework="pt") as f:
        metadata = f.metadata()
        for name in f.keys():
            tensors[name] = f.get_tensor(name)
            names[name] = f.get_slice(name).get_dtype()
    return tensors, names, metadata


def cmd_read(path):
    tensors, names, metadata = read_file(path)
    with open(path, "rb") as f:
        identical = save(tensors, metadata=metadata) == f.read()
    return {"metadata": metadata, "tensors": describe(tensors, names), "reserialized_identical": identical}


def cmd_write(path):
    tensors, names = every_dtype(1)
    save_file(tensors, path, metadata={"format": "pt"})
    return {"tensors": describe(tensors, names)}


def cmd_read_dir(directory, max_bytes, order_path):
    with open(os.path.join(directory, "model.safetensors.index.json")) as f:
        index = json.load(f)
    tensors, names = {}, {}
    for shard in sorted(set(index["weight_map"].values())):
        shard_tensors, shard_names, metadata = read_file(os.path.join(directory, shard))
        assert metadata == {"format": "pt"}, (shard, metadata)
        for name, t in shard_tensors.items():
            assert index["weight_map"][name] == shard, (name, shard)
        tensors.update(shard_tensors)
        names.update(shard_names)
    with open(order_path) as f:
        order = json.load(f)
    split = split_torch_state_dict_into_shards({n: tensors[n] for n in order}, max_shard_size=max_bytes)
    return {"index": index, "tensors": describe(tensors, names),
            "hub_plan": split.tensor_to_filename, "hub_total_size": split.metadata["total_size"]}


def cmd_write_dir(directory, max_bytes):
    tensors, names = every_dtype(3)
    save_torch_state_dict(tensors, directory, max_shard_size=max_bytes)
    return {"tensors": describe(tensors, names), "files": sorted(os.listdir(directory))}


def main(argv):
    commands = {"read": cmd_read, "write": cmd_write, "read_dir": cmd_read_dir, "write_dir": cmd_write_dir}
    args = [int(a) if a.isdigit() else a for a in argv[2:]]
    print(json.dumps(commands[argv[1]](*args)))


if __name__ == "__main__":
    main(sys.argv)
