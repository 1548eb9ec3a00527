"""Joins safetensors files (torch_replay.py --save-dir writes two, to fit the device's 16 MiB file
limit) into one, checking that no tensor name repeats.

    python3 merge_safetensors.py OUT.safetensors IN1.safetensors IN2.safetensors ...
"""
import json
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    header.pop("__metadata__", None)
    return {name: (meta["dtype"], meta["shape"], data[meta["data_offsets"][0]: meta["data_offsets"][1]]) for name, meta in header.items()}


def main():
    out, inputs = sys.argv[1], sys.argv[2:]
    if not inputs:
        raise SystemExit("usage: merge_safetensors.py OUT IN1 [IN2 ...]")
    tensors = {}
    for path in inputs:
        for name, value in read(path).items():
            if name in tensors:
                raise SystemExit(f"{path}: tensor {name} also in an earlier file")
            tensors[name] = value
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name in sorted(tensors):
        dtype, shape, blob = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for blob in blobs:
            f.write(blob)
    print(f"wrote {len(tensors)} tensors to {out}")


if __name__ == "__main__":
    main()
